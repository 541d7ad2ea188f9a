/**
 * Builds and starts gatehouse from a validated config: the decision engine, the gRPC and HTTP listeners,
 * telemetry. No side effects on import; `main.ts` and tests call `startGatehouse`. A config that fails
 * anywhere here fails before any port is opened.
 */
import type { Config } from './config/schema.js';
import type { Authorizer } from './decisions/authorizer.js';
import { compilePolicy, createAuthorizer } from './decisions/create-authorizer.js';
import { startGrpcServer } from './server/grpc-server.js';
import { startHttpServer } from './server/http-server.js';
import type { DecisionHooks } from './server/telemetry-hooks.js';
import { AuditLog } from './telemetry/audit.js';
import { decisionMetrics } from './telemetry/decision-metrics.js';
import { grpcMetricsInterceptor, preinitialiseGrpcMetrics } from './telemetry/grpc-metrics-interceptor.js';
import type { Logger } from './telemetry/logger.js';
import { createMetrics, type GatehouseMetrics } from './telemetry/metrics.js';
import { readPackageVersion } from './telemetry/package-version.js';
import { systemClock, type Clock } from './verification/clock.js';
import type { Fetch } from './verification/fetch-json.js';
import type { SourceStatus } from './verification/key-cache.js';
import { observeAll, type VerificationObserver } from './verification/observer.js';

export interface GatehouseDeps {
  readonly logger: Logger;
  readonly clock?: Clock;
  readonly fetch?: Fetch;
  /** For `gatehouse_build_info`; read from package.json here when absent. */
  readonly version?: string;
}

export interface Gatehouse {
  readonly grpcPort: number;
  readonly httpPort: number;
  /** The engine serving calls now (a reload that changes issuers swaps it). */
  authorizer(): Authorizer;
  /** Resolves once every issuer's first key fetch has finished (successfully or not). */
  readonly prefetched: Promise<void>;
  /** The Prometheus metrics served on `/metrics` (a registry of this instance only). */
  readonly metrics: GatehouseMetrics;
  /** Applies a new config's rules (and issuers); on failure keeps the running ones and throws. */
  reload(config: Config): Promise<void>;
  /** Not ready, refuse new calls, finish in-flight calls, close listeners. */
  shutdown(): Promise<void>;
}

export async function startGatehouse(config: Config, deps: GatehouseDeps): Promise<Gatehouse> {
  const { logger } = deps;
  const audit = new AuditLog(logger);
  let current: Authorizer;
  let running = config;
  let draining = false;
  const metrics = createMetrics({
    version: deps.version ?? readPackageVersion(),
    tenantLabel: config.metrics.tenant_label,
    keySources: () => current.verification.keyCache.status(),
    decisionCacheSize: () => current.cachedDecisions,
    now: deps.clock ?? systemClock,
  });
  // Issuer ids that may label metrics: the running config's, plus a reload's while its keys load.
  let issuerIds = new Set(config.issuers.map((i) => i.id));
  const recorder = decisionMetrics(metrics, { isConfiguredIssuer: (id) => issuerIds.has(id) });
  recorder.setIssuers(issuerIds);
  const observer = observeAll(loggingObserver(logger), recorder.observer);
  current = createAuthorizer(config, { clock: deps.clock, fetch: deps.fetch, observer });

  const hooks: DecisionHooks = {
    onAuthorize(action, outcome, seconds, requestId, via) {
      audit.record({ requestId, action, outcome, latencySeconds: seconds, via });
      recorder.onAuthorize(action, outcome, seconds, requestId, via);
    },
    onVerify(outcome, seconds, cached, requestId) {
      recorder.onVerify(outcome, seconds, cached, requestId);
      // One line per Verify too, tying the request id to the token's subject (never the token).
      if (!logger.isLevelEnabled('info')) return;
      const latency_ms = Math.round(seconds * 1e6) / 1e3;
      logger.info(
        outcome.valid
          ? {
              request_id: requestId,
              subject: outcome.principal.subject,
              issuer: outcome.principal.issuerId,
              valid: true,
              cached,
              latency_ms,
            }
          : {
              request_id: requestId,
              issuer: outcome.issuerId ?? '',
              valid: false,
              reason: outcome.reason,
              detail: outcome.detail,
              latency_ms,
            },
        'verify',
      );
    },
    onInternalError(method, err, requestId) {
      logger.error({ request_id: requestId, method, err }, 'internal error; the caller got INTERNAL');
    },
  };

  const grpc = await startGrpcServer({
    address: config.server.grpc,
    tls: config.server.tls,
    maxMessageBytes: config.server.max_message_bytes,
    authorizer: () => current,
    hooks,
    interceptors: [grpcMetricsInterceptor(metrics.grpc)],
  });
  preinitialiseGrpcMetrics(metrics.grpc, grpc.methods);
  let http;
  try {
    http = await startHttpServer({
      address: config.server.http,
      readiness: () => readiness(current, draining, config.server.readiness),
      metrics: () => metrics.exposition(),
    });
  } catch (err) {
    await grpc.shutdown(0);
    throw err;
  }
  const prefetched = current.verification.keyCache.start();
  let reloads: Promise<void> = Promise.resolve();
  logger.info(
    { grpc: grpc.port, http: http.port, issuers: config.issuers.map((i) => i.id), rules: config.rules.length },
    'gatehouse listening',
  );

  return {
    grpcPort: grpc.port,
    httpPort: http.port,
    authorizer: () => current,
    prefetched,
    metrics,
    reload(next) {
      // One reload at a time, in order: a rules-only reload must not land on an engine about to be replaced.
      const run = reloads
        .then(() => applyConfig(next))
        .then(
          () => metrics.countReload('success'),
          (err: unknown) => {
            metrics.countReload('failure');
            throw err;
          },
        );
      reloads = run.catch(() => {});
      return run;
    },
    async shutdown() {
      draining = true;
      await grpc.shutdown(config.server.shutdown_grace, config.server.shutdown_delay);
      await http.close();
      current.verification.keyCache.stop();
      logger.info('gatehouse stopped');
    },
  };

  async function applyConfig(next: Config): Promise<void> {
    const verifierDeps = { clock: deps.clock, fetch: deps.fetch, observer };
    const keysOf = (c: Config) => JSON.stringify([c.issuers, c.keys]);
    const engineOf = (c: Config) => JSON.stringify([c.tokens, c.decisions]);
    if (keysOf(next) !== keysOf(running)) {
      // New issuers or key settings: a new key cache, which keeps the last good keys of every unchanged issuer
      // (a reload during a provider outage must not drop them).
      const replacement = createAuthorizer(next, verifierDeps);
      replacement.verification.keyCache.adopt(current.verification.keyCache);
      const nextIds = new Set(next.issuers.map((i) => i.id));
      issuerIds = new Set([...issuerIds, ...nextIds]);
      await replacement.verification.keyCache.start();
      const old = current;
      current = replacement;
      old.verification.keyCache.stop();
      issuerIds = nextIds;
      recorder.setIssuers(nextIds);
    } else if (engineOf(next) !== engineOf(running)) {
      // Token checks or decision-cache limits: a new engine over the same key cache.
      const verification = { ...current.verification, clockSkewMs: next.tokens.clock_skew, maxTokenBytes: next.tokens.max_bytes };
      current = createAuthorizer(next, verifierDeps, verification);
    } else {
      current.setPolicy(compilePolicy(next));
    }
    running = next;
  }
}

function readiness(authorizer: Authorizer, draining: boolean, rule: 'all' | 'any') {
  const sources = authorizer.verification.keyCache.status();
  const serving = (s: SourceStatus) => s.usable || s.loading;
  const ready = !draining && (rule === 'all' ? sources.every(serving) : sources.some(serving));
  return {
    ready,
    detail: {
      draining,
      issuers: sources.map((s) => ({ id: s.id, usable: s.usable, loading: s.loading, stale: s.stale, error: s.lastError })),
    },
  };
}

function loggingObserver(logger: Logger): VerificationObserver {
  return {
    keyLookup() {},
    keyFetch(issuerId, outcome, seconds, error) {
      if (outcome === 'failure') logger.warn({ issuer: issuerId, seconds, error }, 'key fetch failed; serving the last good keys if any');
      else logger.debug({ issuer: issuerId, seconds }, 'keys fetched');
    },
    refetchSuppressed(issuerId) {
      logger.debug({ issuer: issuerId }, 'unknown kid: refetch suppressed by cooldown');
    },
    keySetState() {},
  };
}
