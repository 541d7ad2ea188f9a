/**
 * The AuthClient's channel: how it spreads calls over gatehouse replicas and rides out one dying. All of it is
 * grpc-js's own machinery, set through the channel's service config and options:
 * - `round_robin` over every address the target resolves to (a headless Service's pod IPs, an `ipv4:` list),
 *   so load spreads and a dead replica only takes its own connection with it;
 * - a gRPC retry policy for the idempotent reads (Verify, Authorize, AuthorizeBatch) on UNAVAILABLE and
 *   RESOURCE_EXHAUSTED, within the call's deadline, with gRPC's retry throttling so retries stop when most
 *   calls fail (a retry storm would only deepen an overload);
 * - keepalive pings that notice a replica gone silent (a node lost, a partition) within seconds.
 */
import { status, type ChannelOptions } from '@grpc/grpc-js';
import { AUTH_SERVICE_NAME } from '../contract/proto.js';
import { optionsError } from './errors.js';

export type LoadBalancing = 'round_robin' | 'pick_first';

export interface RetryPolicy {
  /** Attempts in all, the first included; 2 to 5 (grpc-js caps at 5). */
  readonly maxAttempts: number;
  readonly initialBackoffMs: number;
  readonly maxBackoffMs: number;
  readonly backoffMultiplier: number;
  /** gRPC status code names, e.g. `UNAVAILABLE`. */
  readonly retryableStatusCodes: readonly string[];
}

export interface Keepalive {
  /** A ping every this many ms on each connection, with or without calls. */
  readonly timeMs: number;
  /** No answer to a ping within this: the connection is dropped and its replica skipped until it reconnects. */
  readonly timeoutMs: number;
}

export interface ChannelChoices {
  readonly loadBalancing?: LoadBalancing;
  readonly retry?: Partial<RetryPolicy> | false;
  readonly keepalive?: Partial<Keepalive> | false;
}

/** Verify, Authorize and AuthorizeBatch only read: asking twice gives the same answer and changes nothing. */
export const IDEMPOTENT_METHODS = ['Verify', 'Authorize', 'AuthorizeBatch'] as const;

export const DEFAULT_RETRY: RetryPolicy = Object.freeze({
  maxAttempts: 3,
  initialBackoffMs: 50,
  maxBackoffMs: 500,
  backoffMultiplier: 2,
  // UNAVAILABLE: a replica stopping, or a call refused before it started; RESOURCE_EXHAUSTED: a replica shedding load.
  retryableStatusCodes: Object.freeze(['UNAVAILABLE', 'RESOURCE_EXHAUSTED']),
});

/** A dead replica that sends no FIN is noticed within timeMs + timeoutMs (7 s); grpc-js servers accept any ping rate. */
export const DEFAULT_KEEPALIVE: Keepalive = Object.freeze({ timeMs: 5000, timeoutMs: 2000 });

/** gRPC's retry throttling (A6): retries stop while failures outnumber successes about ten to one. */
const RETRY_THROTTLING = { maxTokens: 10, tokenRatio: 0.1 };

const BASE_OPTIONS: ChannelOptions = {
  // gatehouse is on the path of every call: reconnect quickly once a replica is back.
  'grpc.initial_reconnect_backoff_ms': 100,
  'grpc.max_reconnect_backoff_ms': 2000,
  // The service config is ours: a DNS TXT record must not replace it (and the TXT lookup is saved).
  'grpc.service_config_disable_resolution': 1,
  // A headless Service's pods change on every rollout: re-resolve within seconds when a connection drops (default 30 s).
  'grpc.dns_min_time_between_resolutions_ms': 5000,
};

/** The channel options for these choices; `overrides` (the caller's channelOptions) win over all of them. */
export function channelOptions(choices: ChannelChoices, overrides: ChannelOptions = {}): ChannelOptions {
  const where = 'createAuthClient';
  const loadBalancing = choices.loadBalancing ?? 'round_robin';
  if (loadBalancing !== 'round_robin' && loadBalancing !== 'pick_first') {
    throw optionsError(where, `loadBalancing must be "round_robin" or "pick_first", got ${JSON.stringify(loadBalancing)}`);
  }
  const retry = choices.retry === false ? undefined : checkRetry({ ...DEFAULT_RETRY, ...choices.retry });
  const keepalive = choices.keepalive === false ? undefined : checkKeepalive({ ...DEFAULT_KEEPALIVE, ...choices.keepalive });
  const serviceConfig = {
    loadBalancingConfig: [{ [loadBalancing]: {} }],
    methodConfig: retry
      ? [
          {
            name: IDEMPOTENT_METHODS.map((method) => ({ service: AUTH_SERVICE_NAME, method })),
            retryPolicy: {
              maxAttempts: retry.maxAttempts,
              initialBackoff: seconds(retry.initialBackoffMs),
              maxBackoff: seconds(retry.maxBackoffMs),
              backoffMultiplier: retry.backoffMultiplier,
              retryableStatusCodes: [...retry.retryableStatusCodes],
            },
          },
        ]
      : [],
    ...(retry ? { retryThrottling: RETRY_THROTTLING } : {}),
  };
  return {
    ...BASE_OPTIONS,
    'grpc.service_config': JSON.stringify(serviceConfig),
    ...(keepalive
      ? {
          'grpc.keepalive_time_ms': keepalive.timeMs,
          'grpc.keepalive_timeout_ms': keepalive.timeoutMs,
          'grpc.keepalive_permit_without_calls': 1,
        }
      : {}),
    ...overrides,
  };
}

function checkRetry(retry: RetryPolicy): RetryPolicy {
  const where = 'createAuthClient';
  if (!(Number.isInteger(retry.maxAttempts) && retry.maxAttempts >= 2 && retry.maxAttempts <= 5)) {
    throw optionsError(where, `retry.maxAttempts must be an integer from 2 to 5 (or retry: false), got ${String(retry.maxAttempts)}`);
  }
  for (const key of ['initialBackoffMs', 'maxBackoffMs'] as const) {
    if (!(Number.isFinite(retry[key]) && retry[key] > 0)) throw optionsError(where, `retry.${key} must be a positive number of ms`);
  }
  if (!(Number.isFinite(retry.backoffMultiplier) && retry.backoffMultiplier > 0)) {
    throw optionsError(where, 'retry.backoffMultiplier must be a positive number');
  }
  const codes = retry.retryableStatusCodes;
  if (!Array.isArray(codes) || codes.length === 0 || codes.some((c) => typeof c !== 'string' || !STATUS_NAMES.has(c))) {
    throw optionsError(where, `retry.retryableStatusCodes must name gRPC status codes (e.g. "UNAVAILABLE"), got ${JSON.stringify(codes)}`);
  }
  return retry;
}

function checkKeepalive(keepalive: Keepalive): Keepalive {
  for (const key of ['timeMs', 'timeoutMs'] as const) {
    if (!(Number.isSafeInteger(keepalive[key]) && keepalive[key] > 0)) {
      throw optionsError('createAuthClient', `keepalive.${key} must be a positive integer of ms (or keepalive: false)`);
    }
  }
  return keepalive;
}

/** A proto3 Duration in JSON: seconds with an `s`, as the service config wants them. */
function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(3).replace(/\.?0+$/, '')}s`;
}

/** Codes a retry policy may name (grpc-js's own list): never OK. */
const STATUS_NAMES = new Set(Object.keys(status).filter((name) => Number.isNaN(Number(name)) && name !== 'OK'));
