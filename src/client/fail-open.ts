/**
 * The one fail-open decision, made by both interceptors when gatehouse gave no answer. A call goes on unchecked
 * only when `failOpen` is on AND the question provably never reached gatehouse (ERR_GATEHOUSE_UNREACHABLE: never a
 * timeout, a dropped connection, a closed AuthClient or any answer); it is then counted and logged (rate limited).
 * Everything else is counted as a fail-closed refusal.
 */
import type { StatusObject } from '@grpc/grpc-js';
import { isClientError } from './errors.js';
import type { ClientLogger } from './logger.js';
import type { ClientMetrics, Side } from './metrics.js';
import { gatehouseFailureStatus } from './refusal.js';

export interface FailOpenPolicy {
  readonly failOpen: boolean;
  /** Which interceptor asks: `server` lets an incoming call through, `egress` sends an outgoing one. */
  readonly side: Side;
  readonly metrics: ClientMetrics;
  /** Rate limited by the caller. */
  readonly warn: ClientLogger['warn'];
}

const UNCHECKED: Readonly<Record<Side, string>> = {
  server: 'FAIL OPEN: gatehouse could not be reached; call let through UNCHECKED',
  egress: 'FAIL OPEN: gatehouse could not be reached; call sent UNCHECKED',
};

/** Undefined: let the call go on without a decision. Otherwise the status to refuse it with. */
export function unansweredCall(policy: FailOpenPolicy, err: unknown, method: string, requestId: string): StatusObject | undefined {
  if (policy.failOpen && isClientError(err, 'ERR_GATEHOUSE_UNREACHABLE')) {
    policy.metrics.failOpen(policy.side);
    policy.warn({ method, request_id: requestId, error: err.message }, UNCHECKED[policy.side]);
    return undefined;
  }
  policy.metrics.failClosed(policy.side);
  return gatehouseFailureStatus(err);
}
