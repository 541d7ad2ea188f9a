/**
 * The client's metrics, every name, label and bucket in this file. They exist only when the user hands in a
 * prom-client Registry: nothing is registered globally, and prom-client (an optional peer) is loaded only
 * then. Labels are bounded: rpc method, status code name, reason, result, side. Never a subject or a token.
 */
import { createRequire } from 'node:module';
import type * as PromClient from 'prom-client';

export type Registry = PromClient.Registry;

/** Which interceptor refused (or let through) a call because gatehouse could not answer. */
export type Side = 'server' | 'egress';

export interface ClientMetrics {
  /** One call to gatehouse: its method, its gRPC status code name and how long it took. */
  call(method: 'Authorize' | 'Verify', code: string, seconds: number): void;
  /** A call re-sent after an attempt died with UNAVAILABLE (a replica lost mid-call). */
  resend(method: 'Authorize' | 'Verify'): void;
  denial(reason: string): void;
  cache(result: 'hit' | 'miss'): void;
  failClosed(side: Side): void;
  failOpen(side: Side): void;
}

export const noopMetrics: ClientMetrics = { call() {}, resend() {}, denial() {}, cache() {}, failClosed() {}, failOpen() {} };

const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

export function createClientMetrics(registry: Registry | undefined): ClientMetrics {
  if (!registry) return noopMetrics;
  const prom = createRequire(import.meta.url)('prom-client') as typeof PromClient;
  // Several clients (a server interceptor and an egress check) may share one registry: reuse by name.
  const counter = <L extends string>(name: string, help: string, labelNames: L[]) =>
    (registry.getSingleMetric(name) as PromClient.Counter<L> | undefined) ??
    new prom.Counter<L>({ name, help, labelNames, registers: [registry] });

  const latency =
    (registry.getSingleMetric('gatehouse_client_call_duration_seconds') as PromClient.Histogram<'method' | 'code'> | undefined) ??
    new prom.Histogram({
      name: 'gatehouse_client_call_duration_seconds',
      help: 'Calls from this service to gatehouse (Authorize, Verify): latency by method and gRPC status code.',
      labelNames: ['method', 'code'],
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    });
  const resends = counter(
    'gatehouse_client_resends_total',
    'Calls to gatehouse re-sent after an attempt died with UNAVAILABLE and no answer (a replica lost mid-call), by method.',
    ['method'],
  );
  const denials = counter('gatehouse_client_denials_total', 'Decisions that refused a call, by reason (cached ones included).', ['reason']);
  const cache = counter('gatehouse_client_decision_cache_total', 'Local decision cache lookups: hit or miss.', ['result']);
  const failClosed = counter(
    'gatehouse_client_fail_closed_total',
    'Calls refused with UNAVAILABLE because gatehouse could not answer (fail closed), by interceptor side.',
    ['side'],
  );
  const failOpen = counter(
    'gatehouse_client_fail_open_total',
    'Calls let through WITHOUT a decision because gatehouse could not be reached and failOpen is set.',
    ['side'],
  );
  return {
    call: (method, code, seconds) => latency.observe({ method, code }, seconds),
    resend: (method) => resends.inc({ method }),
    denial: (reason) => denials.inc({ reason }),
    cache: (result) => cache.inc({ result }),
    failClosed: (side) => failClosed.inc({ side }),
    failOpen: (side) => failOpen.inc({ side }),
  };
}
