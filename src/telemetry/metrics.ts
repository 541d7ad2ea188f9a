/**
 * Every metric a gatehouse server exposes: names, labels and buckets, in this one file (a primary's own, with
 * server.workers > 1: primary-metrics.ts), on a registry of its own (never prom-client's global one). Nothing is
 * created at import: `createMetrics` builds a fresh set per server, so tests and a reload-free restart never collide.
 *
 * Labels are bounded by configuration, never by the request: issuer id (a configured id or "unknown"), rule id,
 * reason, gRPC code, method of a registered service, and tenant only when `metrics.tenant_label` is on.
 * Never subject, token, kid or action strings. Across workers the primary sums every metric (each worker counts only
 * what it served), except the gauges marked `aggregator`: a value every worker holds alike.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { HotCounter, HotHistogram } from './hot-series.js';
import { collectProcessMetrics } from './process-metrics.js';

/** Decision and verification latencies are mostly sub-millisecond: 50µs up to 1s. */
export const DECISION_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];
/** gRPC handling adds transport and queueing: the same low end, up to 10s. */
export const GRPC_BUCKETS = [...DECISION_BUCKETS, 2.5, 5, 10];
/** An identity provider round trip. */
export const KEY_FETCH_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** What scrape-time gauges read from the key cache (structurally `KeyCache.status()`). */
export interface KeySourceState {
  readonly issuerId: string;
  readonly usable: boolean;
  readonly stale: boolean;
  readonly lastSuccessAt: number | undefined;
}

export interface MetricsOptions {
  /** gatehouse's version, for `gatehouse_build_info` (read once by the caller, not here). */
  readonly version: string;
  /** Adds a `tenant` label to decisions and denials (`metrics.tenant_label`). */
  readonly tenantLabel: boolean;
  /** The key sources of the engine serving now; read at scrape time. */
  readonly keySources: () => readonly KeySourceState[];
  /** Entries in the decision cache of the engine serving now; read at scrape time. */
  readonly decisionCacheSize: () => number;
  /** Milliseconds since the epoch (the same clock as the key cache). */
  readonly now: () => number;
  /** Calls in flight per front door now (server/admission.ts); read at scrape time. */
  readonly inFlight?: () => Readonly<Record<string, number>>;
  /** Log lines dropped so far because stdout did not take them (telemetry/log-destination.ts); read at scrape time. */
  readonly logLinesDropped?: () => number;
  /** Node's default process metrics; on unless a test turns them off. */
  readonly processMetrics?: boolean;
}

export type ReloadOutcome = 'success' | 'failure';

export type GatehouseMetrics = ReturnType<typeof createMetrics>;

export function createMetrics(options: MetricsOptions) {
  const registry = new Registry();
  const register = [registry];
  const tenant = options.tenantLabel ? (['tenant'] as const) : [];

  const grpc = {
    started: new HotCounter({
      name: 'grpc_server_started_total',
      help: 'RPCs started on the server.',
      labelNames: ['grpc_type', 'grpc_service', 'grpc_method'] as const,
      registers: register,
    }),
    handled: new HotCounter({
      name: 'grpc_server_handled_total',
      help: 'RPCs completed on the server, by status code.',
      labelNames: ['grpc_type', 'grpc_service', 'grpc_method', 'grpc_code'] as const,
      registers: register,
    }),
    handling: new HotHistogram({
      name: 'grpc_server_handling_seconds',
      help: 'Time from the start of an RPC to its status, in seconds.',
      labelNames: ['grpc_type', 'grpc_service', 'grpc_method'] as const,
      buckets: GRPC_BUCKETS,
      registers: register,
    }),
  };

  const decisions = {
    decisions: new HotCounter({
      name: 'gatehouse_decisions_total',
      help: 'Authorization decisions, by issuer, deciding rule, decision (allow or deny) and front door (grpc, envoy, http).',
      labelNames: ['issuer', 'rule', 'decision', 'door', ...tenant],
      registers: register,
    }),
    denials: new HotCounter({
      name: 'gatehouse_denials_total',
      help: 'Denied authorizations, by issuer ("unknown" when the token named none), reason and front door.',
      labelNames: ['issuer', 'reason', 'door', ...tenant],
      registers: register,
    }),
    authorizeDuration: new HotHistogram({
      name: 'gatehouse_authorize_duration_seconds',
      help: 'Time to decide one authorization, by decision cache result (hit or miss) and front door.',
      labelNames: ['cache', 'door'] as const,
      buckets: DECISION_BUCKETS,
      registers: register,
    }),
    verifyDuration: new HotHistogram({
      name: 'gatehouse_verify_duration_seconds',
      help: 'Time to answer one Verify call, by cache result (hit or miss).',
      labelNames: ['cache'] as const,
      buckets: DECISION_BUCKETS,
      registers: register,
    }),
  };

  const keysHeld = new Gauge({
    name: 'gatehouse_keys_held',
    help: 'Signing keys held per issuer, as of its last fetch.',
    labelNames: ['issuer'] as const,
    // Every worker holds the same keys: across workers (server.workers) the most, not the sum.
    aggregator: 'max',
    registers: register,
  });

  const keys = {
    fetches: new Counter({
      name: 'gatehouse_key_fetches_total',
      help: 'Discovery and JWKS fetches, by issuer and outcome (success or failure).',
      labelNames: ['issuer', 'outcome'] as const,
      registers: register,
    }),
    fetchDuration: new Histogram({
      name: 'gatehouse_key_fetch_duration_seconds',
      help: 'Time to fetch an issuer’s metadata and keys.',
      labelNames: ['issuer'] as const,
      buckets: KEY_FETCH_BUCKETS,
      registers: register,
    }),
    held: keysHeld,
    refetchesSuppressed: new Counter({
      name: 'gatehouse_key_refetches_suppressed_total',
      help: 'Unknown-kid refetches skipped because the cooldown had not passed.',
      labelNames: ['issuer'] as const,
      registers: register,
    }),
  };

  new Gauge({
    name: 'gatehouse_key_set_age_seconds',
    help: 'Age of the oldest key set in use per issuer (since its last successful fetch); max() is the oldest overall.',
    labelNames: ['issuer'] as const,
    aggregator: 'max',
    registers: register,
    collect() {
      this.reset();
      const now = options.now();
      const oldest = new Map<string, number>();
      for (const s of options.keySources()) {
        if (!s.usable || s.lastSuccessAt === undefined) continue;
        const age = Math.max(0, (now - s.lastSuccessAt) / 1000);
        oldest.set(s.issuerId, Math.max(age, oldest.get(s.issuerId) ?? 0));
      }
      for (const [issuer, age] of oldest) this.set({ issuer }, age);
    },
  });

  new Gauge({
    name: 'gatehouse_issuers_on_stale_keys',
    help: 'Issuers currently served from stale keys (the last refresh failed or is overdue).',
    aggregator: 'max',
    registers: register,
    collect() {
      const stale = new Set<string>();
      for (const s of options.keySources()) if (s.stale) stale.add(s.issuerId);
      this.set(stale.size);
    },
  });

  const cacheLookups = new HotCounter({
    name: 'gatehouse_cache_lookups_total',
    help: 'Cache lookups, by cache (key, decision) and result (hit, miss).',
    labelNames: ['cache', 'result'] as const,
    registers: register,
  });
  for (const cache of ['key', 'decision']) for (const result of ['hit', 'miss']) cacheLookups.zero({ cache, result });

  new Gauge({
    name: 'gatehouse_cache_entries',
    help: 'Entries held, by cache (key: signing-key lookup entries; decision: cached decisions).',
    labelNames: ['cache'] as const,
    registers: register,
    async collect() {
      const held = (await keysHeld.get()).values.reduce((sum, v) => sum + v.value, 0);
      this.set({ cache: 'key' }, held);
      this.set({ cache: 'decision' }, options.decisionCacheSize());
    },
  });

  const reloads = new Counter({
    name: 'gatehouse_config_reloads_total',
    help: 'Config reloads, by outcome (success or failure).',
    labelNames: ['outcome'] as const,
    registers: register,
  });
  reloads.inc({ outcome: 'success' }, 0);
  reloads.inc({ outcome: 'failure' }, 0);

  const revocationEntries = new Gauge({
    name: 'gatehouse_revocations_entries',
    help: 'Entries of the revocation list in force (revocations.file).',
    aggregator: 'max',
    registers: register,
  });
  const revocationLoads = new Counter({
    name: 'gatehouse_revocation_loads_total',
    help: 'Loads of the revocation file, by outcome (success or failure: the last good list stays).',
    labelNames: ['outcome'] as const,
    registers: register,
  });
  revocationLoads.inc({ outcome: 'success' }, 0);
  revocationLoads.inc({ outcome: 'failure' }, 0);

  const tlsReloads = new Counter({
    name: 'gatehouse_tls_reloads_total',
    help: "Re-reads of a listener's changed TLS files, by listener (grpc, http) and outcome (success or failure: the running certificate stays).",
    labelNames: ['listener', 'outcome'] as const,
    registers: register,
  });
  const tlsExpiry = new Gauge({
    name: 'gatehouse_tls_certificate_expiry_timestamp_seconds',
    help: 'When the certificate a listener presents expires (Unix seconds), by listener.',
    labelNames: ['listener'] as const,
    registers: register,
  });
  const shed = new Counter({
    name: 'gatehouse_shed_calls_total',
    help: 'Calls refused at once because server.max_inflight calls were in flight, by front door (grpc, envoy, http).',
    labelNames: ['door'] as const,
    registers: register,
  });
  for (const door of ['grpc', 'envoy', 'http']) shed.inc({ door }, 0);
  new Gauge({
    name: 'gatehouse_inflight_calls',
    help: 'Calls being worked on now, by front door; their sum is bounded by server.max_inflight.',
    labelNames: ['door'] as const,
    registers: register,
    collect() {
      for (const [door, calls] of Object.entries(options.inFlight?.() ?? {})) this.set({ door }, calls);
    },
  });
  new Counter({
    name: 'gatehouse_log_lines_dropped_total',
    help: 'Log lines (audit lines too) dropped because stdout did not take them (a stalled reader, or gone).',
    registers: register,
    collect() {
      this.reset();
      this.inc(options.logLinesDropped?.() ?? 0);
    },
  });

  new Gauge({
    name: 'gatehouse_build_info',
    help: 'Always 1; the version label says which gatehouse is running.',
    labelNames: ['version'] as const,
    aggregator: 'max',
    registers: register,
  }).set({ version: options.version }, 1);

  if (options.processMetrics !== false) collectProcessMetrics(registry);

  return {
    registry,
    grpc,
    decisions,
    keys,
    cacheLookups,
    tenantLabel: options.tenantLabel,
    /** Counts one call shed by admission control on `door`. */
    countShed(door: string): void {
      shed.inc({ door });
    },
    /** Counts one config reload. */
    countReload(outcome: ReloadOutcome): void {
      reloads.inc({ outcome });
    },
    /** Counts one load of the revocation file; `entries`: the list in force afterwards. */
    countRevocationLoad(outcome: ReloadOutcome, entries: number): void {
      revocationLoads.inc({ outcome });
      revocationEntries.set(entries);
    },
    /** A listener serves this certificate (`notAfter`: ms since the epoch); its reload counters start at zero. */
    tlsInForce(listener: 'grpc' | 'http', notAfter: number): void {
      tlsExpiry.set({ listener }, Math.floor(notAfter / 1000));
      tlsReloads.inc({ listener, outcome: 'success' }, 0);
      tlsReloads.inc({ listener, outcome: 'failure' }, 0);
    },
    /** Counts one re-read of a listener's changed TLS files. */
    countTlsReload(listener: 'grpc' | 'http', outcome: ReloadOutcome): void {
      tlsReloads.inc({ listener, outcome });
    },
    /** The Prometheus text exposition, for the `/metrics` endpoint. */
    async exposition(): Promise<{ contentType: string; body: string }> {
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}
