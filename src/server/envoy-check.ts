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
      const failed = (err: unknown): void => {
        // Answered even if logging the fault throws (as Authorize's, auth-service.ts).
        try {
          deps.hooks.onInternalError('Check', err, request.requestId);
        } catch {
          // nothing more to report it to
        }
        callback(toServiceError(err));
      };
      // Either way, a throw anywhere up to the answer (the engine, the hooks, the response) is the same INTERNAL.
      try {
        const answered = check(deps, request);
        if (answered instanceof Promise) {
          answered.then((response) => callback(null, response)).catch(failed);
          return;
        }
        callback(null, answered);
      } catch (err) {
        failed(err);
      }
    },
  };
}

/** A cached decision answers at once (no promise, no microtask); a promise only while a token is being verified. */
function check(deps: EnvoyCheckDeps, request: EnvoyRequest): WireCheckResponse | Promise<WireCheckResponse> {
  const started = performance.now();
  const respond = (outcome: AuthorizeOutcome): WireCheckResponse => {
    deps.hooks.onAuthorize(request.action, outcome, (performance.now() - started) / 1000, request.requestId, 'envoy');
    if (!outcome.allowed) return denyResponse(outcome, request);
    return allowResponse(outcome, request, deps.stripAuthorization(outcome.issuerId));
  };
  const outcome = decide(deps.authorizer(), request);
  return outcome instanceof Promise ? outcome.then(respond) : respond(outcome);
}

/** A request carrying two tokens is refused as such, before the engine is asked about either. */
function decide(authorizer: Authorizer, request: EnvoyRequest): AuthorizeOutcome | Promise<AuthorizeOutcome> {
  if (typeof request.token !== 'string') return authorizeOutcome(request.token, undefined, 0, false);
  return authorizer.answer(request.token, request.action, request.facts);
}
