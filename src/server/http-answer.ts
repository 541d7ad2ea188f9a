/**
 * A decision in HTTP terms, shared by the doors that answer proxies (Envoy's Check, HTTP forward auth): the identity
 * headers an allowed request carries upstream, and the status, `WWW-Authenticate` (RFC 6750) and
 * `X-Gatehouse-Reason` of a refusal. One place, so every door says the same thing the same way.
 */
import type { Principal } from '../contract/principal.js';
import { reasonKind, refusalKind } from '../contract/reason-kind.js';
import type { Reason } from '../contract/reasons.js';

/** Every header gatehouse sets upstream starts with this; any other of that prefix a caller sent is removed. */
export const IDENTITY_HEADER_PREFIX = 'x-gatehouse-';
export const REASON_HEADER = 'x-gatehouse-reason';

/** The identity headers, in a fixed order: always all of them (empty when the token has no such claim). */
export const IDENTITY_HEADERS = [
  'x-gatehouse-subject',
  'x-gatehouse-issuer',
  'x-gatehouse-tenant',
  'x-gatehouse-object-id',
  'x-gatehouse-client',
  'x-gatehouse-roles',
  'x-gatehouse-scopes',
] as const;

export type IdentityHeader = (typeof IDENTITY_HEADERS)[number];

/**
 * The identity headers for `principal` (undefined for a public rule: every header empty). Values are claims, so
 * anything outside printable ASCII (a CR/LF that would smuggle a header, say) is percent-encoded, `%` and `,` (the
 * list separator of roles and scopes) included.
 * Every header is sent, empty or not: a proxy that copies a missing header may pass its own placeholder instead.
 */
export function identityHeaders(principal: Principal | undefined): Record<IdentityHeader, string> {
  return {
    'x-gatehouse-subject': headerValue(principal?.subject),
    'x-gatehouse-issuer': headerValue(principal?.issuerId),
    'x-gatehouse-tenant': headerValue(principal?.tenantId),
    'x-gatehouse-object-id': headerValue(principal?.objectId),
    'x-gatehouse-client': headerValue(principal?.clientId),
    'x-gatehouse-roles': listValue(principal?.roles),
    'x-gatehouse-scopes': listValue(principal?.scopes),
  };
}

/**
 * The headers of forward auth's 200: every identity header and `content-length: 0`. They depend on the principal
 * only, so they are built once per cached principal (a WeakMap: they go when it goes), frozen.
 */
const allowedHeadersByPrincipal = new WeakMap<Principal, Readonly<Record<string, string>>>();

export function allowedHeaders(principal: Principal | undefined): Readonly<Record<string, string>> {
  if (!principal) return { ...identityHeaders(undefined), 'content-length': '0' };
  let headers = allowedHeadersByPrincipal.get(principal);
  if (!headers) {
    headers = Object.freeze({ ...identityHeaders(principal), 'content-length': '0' });
    allowedHeadersByPrincipal.set(principal, headers);
  }
  return headers;
}

// Printable ASCII but "%" (the escape itself) and "," (the list separator: a role named "x,Admin" must not read as two).
const PLAIN = /^[\x20-\x24\x26-\x2b\x2d-\x7e]*$/;
const NOT_PLAIN = /[^\x20-\x24\x26-\x2b\x2d-\x7e]/gu;

function headerValue(text: string | undefined): string {
  if (!text) return '';
  return PLAIN.test(text) ? text : text.replace(NOT_PLAIN, (c) => encodeURIComponent(c));
}

/** Items each encoded (a "," inside one becomes %2C), then joined with ",". */
function listValue(items: readonly string[] | undefined): string {
  return items ? items.map(headerValue).join(',') : '';
}

export type DenialStatus = 401 | 403 | 503;

/**
 * 401 for a token problem (SESSION_TOO_OLD included: sign in again) and for any refusal carrying a claims
 * challenge, 403 for a refusal by the rules, 503 when gatehouse could not decide (no keys).
 */
export function denialStatus(reason: Reason, challenge?: string): DenialStatus {
  const kind = refusalKind(reason, challenge);
  return kind === 'token' ? 401 : kind === 'unavailable' ? 503 : 403;
}

/**
 * The `WWW-Authenticate` challenge of a refusal (RFC 6750 §3): no error code when no token came,
 * `invalid_token` for a refused token, `insufficient_user_authentication` (RFC 9470) for a session older than
 * max_age, `insufficient_scope` for a refusal by the rules; undefined when gatehouse could not decide (a new token
 * would not help). A denial's own `challenge` (Microsoft's claims challenge) is sent as it is, instead.
 */
export function wwwAuthenticate(reason: Reason, message: string, challenge?: string): string | undefined {
  if (challenge) return challenge;
  const kind = reasonKind(reason);
  if (kind === 'unavailable') return undefined;
  if (reason === 'TOKEN_MISSING') return 'Bearer realm="gatehouse"';
  const error =
    reason === 'SESSION_TOO_OLD' ? 'insufficient_user_authentication' : kind === 'token' ? 'invalid_token' : 'insufficient_scope';
  return `Bearer realm="gatehouse", error="${error}", error_description="${quoted(`${reason}: ${message}`)}"`;
}

/** A quoted-string's content: printable ASCII, `"` and `\` escaped, anything else dropped. */
function quoted(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '').replace(/["\\]/g, (c) => `\\${c}`);
}
