/**
 * The client interceptor for grpc-js clients (`new OrdersClient(addr, creds, { interceptors: [...] })`):
 * every outgoing call gets `authorization: Bearer <token>` from a token provider and an `x-request-id` (the
 * one already set, else the incoming call's, else a new one). With `egress`, it first asks gatehouse whether
 * the token may call this method and refuses locally (PERMISSION_DENIED / UNAUTHENTICATED, with
 * `gatehouse-reason`) instead of sending a call the other side would refuse.
 *
 * Do not combine it with call credentials that also set `authorization` (grpc-js then fails the call with
 * INTERNAL), and note that call-level `interceptors` replace client-level ones.
 */
import {
  InterceptingCall,
  Metadata,
  RequesterBuilder,
  status,
  type InterceptingListener,
  type Interceptor,
  type StatusObject,
} from '@grpc/grpc-js';
import { stripBearer } from '../contract/bearer.js';
import type { AuthClient } from './auth-client.js';
import { optionsError } from './errors.js';
import { unansweredCall, type FailOpenPolicy } from './fail-open.js';
import { incomingCall } from './incoming-call.js';
import { rateLimitedWarn, type ClientLogger } from './logger.js';
import { deniedStatus, tokenFailureStatus } from './refusal.js';
import { requestIdFrom } from '../contract/request-id.js';
import type { TokenProvider } from './tokens/token-provider.js';

export interface EgressCheckOptions {
  readonly authClient: AuthClient;
  /**
   * Send the call anyway, unchecked, but only when the question provably never reached gatehouse
   * (ERR_GATEHOUSE_UNREACHABLE); never on a timeout, a dropped connection, a closed AuthClient or any answer.
   * Logged as a warning (rate limited) and counted. Default: refuse.
   */
  readonly failOpen?: boolean;
  /** Default: the AuthClient's logger. */
  readonly logger?: ClientLogger;
}

export interface ClientInterceptorOptions {
  readonly token: TokenProvider;
  /** Ask gatehouse before the call leaves; a refusal never reaches the network. */
  readonly egress?: EgressCheckOptions;
}

export function createClientInterceptor(options: ClientInterceptorOptions): Interceptor {
  const { token: provider, egress } = options;
  if (!provider || typeof provider.getToken !== 'function') {
    throw optionsError(
      'createClientInterceptor',
      'token is required: staticToken(...), tokenFrom(...), clientCredentials(...) or propagatedToken()',
    );
  }
  const unanswered: FailOpenPolicy | undefined = egress && {
    failOpen: egress.failOpen ?? false,
    side: 'egress',
    metrics: egress.authClient.metrics,
    warn: rateLimitedWarn(egress.logger ?? egress.authClient.logger, 10_000),
  };

  /** Fills in the metadata; returns the status to refuse the call with, if any. */
  async function prepare(metadata: Metadata, method: string): Promise<StatusObject | undefined> {
    let token: string;
    try {
      token = stripBearer(await provider.getToken());
    } catch (err) {
      return tokenFailureStatus(err);
    }
    const requestId = requestIdFrom(metadata.get('x-request-id')[0] ?? incomingCall()?.requestId);
    metadata.set('authorization', `Bearer ${token}`);
    metadata.set('x-request-id', requestId);
    if (!egress || !unanswered) return undefined;
    try {
      const decision = await egress.authClient.authorize(token, method, undefined, { requestId });
      return decision.allowed ? undefined : deniedStatus(decision);
    } catch (err) {
      return unansweredCall(unanswered, err, method, requestId);
    }
  }

  return (callOptions, nextCall) => {
    const inner = nextCall(callOptions);
    const method = callOptions.method_definition.path;
    // Until `next` runs, the inner call is not started: its deadline and cancellation would reach no listener,
    // so while the token (and decision) are awaited this interceptor ends the call itself.
    let listener: InterceptingListener | undefined;
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const end = (refusal: StatusObject): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      inner.cancelWithStatus(refusal.code, refusal.details);
      listener?.onReceiveStatus(refusal);
    };

    const requester = new RequesterBuilder()
      .withStart((metadata, startListener, next) => {
        listener = startListener;
        const left = msUntil(callOptions.deadline);
        if (left !== undefined) {
          timer = setTimeout(
            () => end({ code: status.DEADLINE_EXCEEDED, details: 'Deadline exceeded before the call was sent', metadata: new Metadata() }),
            left,
          );
        }
        prepare(metadata, method).then(
          (refusal) => {
            if (refusal) return end(refusal);
            if (settled) return;
            settled = true;
            clearTimeout(timer);
            next(metadata, startListener);
          },
          (err: unknown) => end(tokenFailureStatus(err)),
        );
      })
      .withCancel((next) => {
        end({ code: status.CANCELLED, details: 'Cancelled on client', metadata: new Metadata() });
        next();
      })
      .build();
    return new InterceptingCall(inner, requester);
  };
}

function msUntil(deadline: Date | number | undefined): number | undefined {
  if (deadline === undefined) return undefined;
  const at = deadline instanceof Date ? deadline.getTime() : deadline;
  return Number.isFinite(at) ? Math.max(0, at - Date.now()) : undefined;
}
