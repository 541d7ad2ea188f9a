/**
 * A decision as Envoy's CheckResponse. Allowed: status OK, the identity headers (overwriting whatever the caller sent
 * under those names), every other `x-gatehouse-*` header removed, `authorization` removed when configured, and the
 * principal in `dynamic_metadata`. Denied: a non-zero status and a `denied_response` with the HTTP status, the
 * challenge, `x-gatehouse-reason`, and for gRPC callers `grpc-status` / `grpc-message`. Never an empty response:
 * Envoy reads one as allowed.
 */
import { status as GrpcStatus } from '@grpc/grpc-js';
import { refusalKind, type ReasonKind } from '../contract/reason-kind.js';
import { toStruct } from '../contract/struct.js';
import type { WireStruct } from '../contract/messages.js';
import type { Principal } from '../contract/principal.js';
import type { AllowedOutcome, DeniedOutcome } from '../decisions/outcome.js';
import { denialStatus, identityHeaders, REASON_HEADER, wwwAuthenticate } from './http-answer.js';
import type { EnvoyRequest } from './envoy-request.js';

type AppendAction = 'OVERWRITE_IF_EXISTS_OR_ADD';

interface WireHeaderValueOption {
  readonly header: { readonly key: string; readonly value: string };
  readonly appendAction: AppendAction;
  /** An empty identity header is still sent: a missing one must not let a proxy or upstream invent its own. */
  readonly keepEmptyValue: boolean;
}

/** envoy.service.auth.v3.CheckResponse, as proto-loader encodes it. */
export interface WireCheckResponse {
  readonly status: { readonly code: number; readonly message: string };
  readonly okResponse?: { readonly headers: WireHeaderValueOption[]; readonly headersToRemove: string[] };
  readonly deniedResponse?: {
    readonly status: { readonly code: number };
    readonly headers: WireHeaderValueOption[];
    readonly body: string;
  };
  readonly dynamicMetadata?: WireStruct;
}

/** The gRPC status of a refusal, in CheckResponse.status and, for gRPC callers, in the grpc-status header. */
const GRPC_CODE: Readonly<Record<ReasonKind, GrpcStatus>> = {
  token: GrpcStatus.UNAUTHENTICATED,
  policy: GrpcStatus.PERMISSION_DENIED,
  unavailable: GrpcStatus.UNAVAILABLE,
};

export function allowResponse(outcome: AllowedOutcome, request: EnvoyRequest, stripAuthorization: boolean): WireCheckResponse {
  const { headers, dynamicMetadata } = allowedParts(outcome.principal, outcome.rule);
  const headersToRemove = [...request.foreignIdentityHeaders];
  if (stripAuthorization) headersToRemove.push('authorization');
  return { status: OK_STATUS, okResponse: { headers, headersToRemove }, dynamicMetadata };
}

const OK_STATUS = Object.freeze({ code: GrpcStatus.OK, message: '' });

interface AllowedParts {
  readonly headers: WireHeaderValueOption[];
  readonly dynamicMetadata: WireStruct;
}

/**
 * An allowed answer's identity headers and dynamic metadata depend on the principal and the rule only: built once per
 * cached principal (and rule), so their prepared bytes (prepared-check-response.ts) are reused too. A WeakMap: they
 * go when the principal goes.
 */
const allowedByPrincipal = new WeakMap<Principal, Map<string, AllowedParts>>();

function allowedParts(principal: Principal | undefined, rule: string): AllowedParts {
  if (!principal) return buildAllowedParts(undefined, rule);
  let byRule = allowedByPrincipal.get(principal);
  if (!byRule) {
    byRule = new Map();
    allowedByPrincipal.set(principal, byRule);
  }
  let parts = byRule.get(rule);
  if (!parts) {
    parts = buildAllowedParts(principal, rule);
    byRule.set(rule, parts);
  }
  return parts;
}

function buildAllowedParts(principal: Principal | undefined, rule: string): AllowedParts {
  return {
    headers: Object.freeze(Object.entries(identityHeaders(principal)).map(([key, value]) => header(key, value))) as WireHeaderValueOption[],
    dynamicMetadata: toStruct({
      subject: principal?.subject ?? '',
      issuer: principal?.issuerId ?? '',
      tenant: principal?.tenantId ?? '',
      object_id: principal?.objectId ?? '',
      client_id: principal?.clientId ?? '',
      roles: principal?.roles ?? [],
      scopes: principal?.scopes ?? [],
      app_only: principal?.appOnly ?? false,
      rule,
    }),
  };
}

export function denyResponse(outcome: DeniedOutcome, request: EnvoyRequest): WireCheckResponse {
  const code = GRPC_CODE[refusalKind(outcome.reason, outcome.challenge)];
  const text = `${outcome.reason}: ${outcome.message}`;
  const challenge = wwwAuthenticate(outcome.reason, outcome.message, outcome.challenge);
  const headers = [header(REASON_HEADER, outcome.reason)];
  if (challenge) headers.push(header('www-authenticate', challenge));
  if (request.grpc) headers.push(header('grpc-status', String(code)), header('grpc-message', grpcMessage(text)));
  else headers.push(header('content-type', 'application/json'));
  return {
    status: { code, message: text },
    deniedResponse: {
      status: { code: denialStatus(outcome.reason, outcome.challenge) },
      headers,
      body: request.grpc ? '' : `${JSON.stringify({ reason: outcome.reason, message: outcome.message })}\n`,
    },
  };
}

function header(key: string, value: string): WireHeaderValueOption {
  return { header: { key, value }, appendAction: 'OVERWRITE_IF_EXISTS_OR_ADD', keepEmptyValue: true };
}

/** grpc-message is percent-encoded (gRPC over HTTP/2): every byte outside printable ASCII, and "%" itself. */
function grpcMessage(text: string): string {
  return Array.from(Buffer.from(text, 'utf8'), (byte) =>
    byte >= 0x20 && byte <= 0x7e && byte !== 0x25 ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`,
  ).join('');
}
