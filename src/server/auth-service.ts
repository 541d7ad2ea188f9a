/**
 * gatehouse.v1.AuthService over gRPC: thin adapters from the wire to the Authorizer and back. Token and
 * policy outcomes are response values; only a failed call is a status (mapped in to-status.ts).
 */
import { Metadata, type sendUnaryData, type ServerUnaryCall, type UntypedServiceImplementation } from '@grpc/grpc-js';
import type { AuthorizeBatchRequest, AuthorizeRequest, VerifyRequest } from '../contract/messages.js';
import type { Authorizer } from '../decisions/authorizer.js';
import type { AuthorizeOutcome, VerifyOutcome } from '../decisions/outcome.js';
import type { DecisionHooks } from './telemetry-hooks.js';
import { requestIdFrom } from '../contract/request-id.js';
import { durationFromMs } from '../contract/wire-duration.js';
import {
  preparePrincipal,
  type PreparedAuthorizeBatchResponse,
  type PreparedAuthorizeResponse,
  type PreparedVerifyResponse,
} from './prepared-responses.js';
import { RequestError, toServiceError } from './to-status.js';
import { MAX_ACTION_LENGTH, MAX_BATCH_ACTIONS, refuseAttributes } from './request-limits.js';
import { refusalOf } from './tolerant-service.js';

export interface AuthServiceDeps {
  /** Read per call, so a reload can swap it. */
  readonly authorizer: () => Authorizer;
  readonly hooks: DecisionHooks;
  /** True once shutdown has begun: new calls are refused with UNAVAILABLE. */
  readonly shuttingDown: () => boolean;
}

export function authServiceHandlers(deps: AuthServiceDeps): UntypedServiceImplementation {
  return {
    Verify: unary<VerifyRequest, PreparedVerifyResponse>(deps, 'Verify', (request, requestId) => {
      const started = performance.now();
      const respond = (outcome: VerifyOutcome): PreparedVerifyResponse => {
        deps.hooks.onVerify(outcome, (performance.now() - started) / 1000, outcome.valid && outcome.cached, requestId);
        return outcome.valid
          ? { valid: true, principal: preparePrincipal(outcome.principal, outcome.cached), denial: null }
          : { valid: false, principal: null, denial: { reason: outcome.reason, message: outcome.message } };
      };
      // A held key (or a cached verification) answers at once: no promise, no microtask.
      const outcome = deps.authorizer().check(request.token);
      return outcome instanceof Promise ? outcome.then(respond) : respond(outcome);
    }),

    Authorize: unary<AuthorizeRequest, PreparedAuthorizeResponse>(deps, 'Authorize', (request, requestId) => {
      checkAction(request.action);
      const started = performance.now();
      const respond = (outcome: AuthorizeOutcome): PreparedAuthorizeResponse => {
        deps.hooks.onAuthorize(request.action, outcome, (performance.now() - started) / 1000, requestId, 'grpc');
        return preparedAuthorize(outcome);
      };
      // A cached decision answers at once: no promise, no microtask.
      const outcome = deps.authorizer().answer(request.token, request.action, { attributes: request.attributes });
      return outcome instanceof Promise ? outcome.then(respond) : respond(outcome);
    }),

    AuthorizeBatch: unary<AuthorizeBatchRequest, PreparedAuthorizeBatchResponse>(deps, 'AuthorizeBatch', async (request, requestId) => {
      if (request.actions.length === 0) throw new RequestError('INVALID_ARGUMENT', 'actions is empty');
      if (request.actions.length > MAX_BATCH_ACTIONS) {
        throw new RequestError('INVALID_ARGUMENT', `at most ${MAX_BATCH_ACTIONS} actions per batch`);
      }
      request.actions.forEach(checkAction);
      const started = performance.now();
      const outcomes = await deps.authorizer().authorizeMany(request.token, request.actions, { attributes: request.attributes });
      const seconds = (performance.now() - started) / 1000;
      outcomes.forEach((outcome, i) => deps.hooks.onAuthorize(request.actions[i]!, outcome, seconds, requestId, 'grpc'));
      // One principal for every action: remembered at once, or the batch would write it once per action.
      return { results: outcomes.map((outcome) => preparedAuthorize(outcome, true)) };
    }),
  };
}

function unary<Req, Res>(deps: AuthServiceDeps, method: string, handle: (request: Req, requestId: string) => Res | Promise<Res>) {
  return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>): void => {
    const requestId = requestIdFrom(call.metadata.get('x-request-id')[0]);
    // Headers go out only with the answer: a failure is a trailers-only response, which a client's gRPC retry
    // policy may still retry on another replica (grpc-js commits a call once response headers arrive).
    const fail = (err: unknown): void => callback({ ...toServiceError(err), metadata: requestIdMetadata(requestId) });
    if (deps.shuttingDown()) {
      fail(new RequestError('UNAVAILABLE', 'gatehouse is shutting down; retry on another replica'));
      return;
    }
    // Refused before decoding (tolerant-service.ts): over the size limit, too many fields, or not protobuf.
    const refusal = refusalOf(call.request) ?? refuseAttributes((call.request as { attributes?: Record<string, string> }).attributes ?? {});
    if (refusal) {
      fail(new RequestError('INVALID_ARGUMENT', refusal));
      return;
    }
    const answer = (response: Res): void => {
      call.sendMetadata(requestIdMetadata(requestId));
      callback(null, response);
    };
    const failed = (err: unknown): void => {
      // Answered even if logging the fault throws (a call left unanswered would wait for its deadline, and the throw
      // would end the process as an unhandled rejection): the answer is what is left to do.
      try {
        if (!(err instanceof RequestError)) deps.hooks.onInternalError(method, err, requestId);
      } catch {
        // nothing more to report it to
      }
      fail(err);
    };
    // Either way, a throw anywhere up to the answer (the engine, the hooks, the response) is the same INTERNAL.
    try {
      const answered = handle(call.request, requestId);
      if (answered instanceof Promise) {
        answered.then(answer).catch(failed);
        return;
      }
      answer(answered);
    } catch (err) {
      failed(err);
    }
  };
}

function requestIdMetadata(requestId: string): Metadata {
  const metadata = new Metadata();
  metadata.set('x-request-id', requestId);
  return metadata;
}

function checkAction(action: string): void {
  if (!action) throw new RequestError('INVALID_ARGUMENT', 'action is required: a gRPC method (/pkg.Service/Method) or resource:verb');
  if (action.length > MAX_ACTION_LENGTH)
    throw new RequestError('INVALID_ARGUMENT', `action is longer than ${MAX_ACTION_LENGTH} characters`);
}

/** `keep`: remember the principal's bytes; by default when it was served from the cache. */
function preparedAuthorize(outcome: AuthorizeOutcome, keep = outcome.cached): PreparedAuthorizeResponse {
  return {
    allowed: outcome.allowed,
    principal: outcome.principal ? preparePrincipal(outcome.principal, keep) : null,
    denial: outcome.allowed ? null : { reason: outcome.reason, message: outcome.message, challenge: outcome.challenge ?? '' },
    rule: outcome.rule,
    cacheFor: durationFromMs(outcome.cacheForMs),
  };
}
