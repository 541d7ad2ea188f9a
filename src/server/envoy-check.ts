/**
 * envoy.service.auth.v3.Authorization/Check (Envoy's and Istio's ext_authz over gRPC): a thin adapter over the same
 * engine as Authorize, so the rules, decision cache, reasons, metrics and audit line are the same, with door=envoy.
 * A decision, allowed or denied, is a CheckResponse; a request gatehouse cannot decide, shutdown, or a bug is an RPC
 * error, so that Envoy's own failure_mode_allow / status_on_error decide what the caller gets.
 */
import type { sendUnaryData, ServerUnaryCall, UntypedServiceImplementation } from '@grpc/grpc-js';
import type { Authorizer } from '../decisions/authorizer.js';
import { authorizeOutcome, type AuthorizeOutcome } from '../decisions/outcome.js';
import { readCheckRequest, type EnvoyRequest, type WireCheckRequest } from './envoy-request.js';
import { allowResponse, denyResponse, type WireCheckResponse } from './envoy-response.js';
import type { DecisionHooks } from './telemetry-hooks.js';
import { RequestError, toServiceError } from './to-status.js';
import { refusalOf } from './tolerant-service.js';

export interface EnvoyCheckDeps {
  /** Read per call, so a reload can swap it. */
  readonly authorizer: () => Authorizer;
  readonly hooks: DecisionHooks;
  /** True once shutdown has begun: new calls are refused with UNAVAILABLE. */
  readonly shuttingDown: () => boolean;
  /** Whether an allowed request goes upstream without its `authorization` header (per issuer id, read per call). */
  readonly stripAuthorization: (issuerId: string) => boolean;
}

export function envoyCheckHandlers(deps: EnvoyCheckDeps): UntypedServiceImplementation {
  return {
    Check(call: ServerUnaryCall<WireCheckRequest, WireCheckResponse>, callback: sendUnaryData<WireCheckResponse>): void {
      if (deps.shuttingDown()) {
        callback(toServiceError(new RequestError('UNAVAILABLE', 'gatehouse is shutting down; retry on another replica')));
        return;
      }
      // Refused before decoding (tolerant-service.ts): over the size limit, or not a CheckRequest.
      const refusal = refusalOf(call.request);
      if (refusal) {
        callback(toServiceError(new RequestError('INVALID_ARGUMENT', refusal)));
        return;
      }
      let request: EnvoyRequest;
      try {
        request = readCheckRequest(call.request);
      } catch (err) {
        if (!(err instanceof RequestError)) deps.hooks.onInternalError('Check', err, '');
        callback(toServiceError(err));
        return;
      }
      check(deps, request).then(
        (response) => callback(null, response),
        (err: unknown) => {
          deps.hooks.onInternalError('Check', err, request.requestId);
          callback(toServiceError(err));
        },
      );
    },
  };
}

async function check(deps: EnvoyCheckDeps, request: EnvoyRequest): Promise<WireCheckResponse> {
  const started = performance.now();
  const outcome = await decide(deps.authorizer(), request);
  deps.hooks.onAuthorize(request.action, outcome, (performance.now() - started) / 1000, request.requestId, 'envoy');
  if (!outcome.allowed) return denyResponse(outcome, request);
  return allowResponse(outcome, request, deps.stripAuthorization(outcome.issuerId));
}

/** A request carrying two tokens is refused as such, before the engine is asked about either. */
function decide(authorizer: Authorizer, request: EnvoyRequest): Promise<AuthorizeOutcome> {
  if (typeof request.token !== 'string') return Promise.resolve(authorizeOutcome(request.token, undefined, 0, false));
  return authorizer.authorize(request.token, request.action, request.facts);
}
