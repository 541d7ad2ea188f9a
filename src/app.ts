/**
 * Builds and starts gatehouse from a validated config: the decision engine, the gRPC and HTTP listeners,
 * telemetry. No side effects on import; `main.ts` and tests call `startGatehouse`. A config that fails
 * anywhere here fails before any port is opened.
 */
import { isDeepStrictEqual } from 'node:util';
import { ConfigError } from './config/load.js';
import type { Config } from './config/schema.js';
import type { Authorizer } from './decisions/authorizer.js';
import { RunningEngine } from './decisions/running-engine.js';
import { PolicyError } from './policy/compile-rules.js';
import { createAdmission } from './server/admission.js';
import { startGrpcServer } from './server/grpc-server.js';
import { admittedHandler } from './server/http-admission.js';
import { forwardAuthHandler } from './server/forward-auth.js';
import { maxHeaderBytes } from './server/http-limits.js';
import { startHttpServer } from './server/http-server.js';
import { TlsReloader, type TlsListener, type TlsReloadEvents } from './server/tls-reloader.js';
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
  /** Log lines the logger's destination dropped so far (gatehouse_log_lines_dropped_total); absent: none. */
  readonly logLinesDropped?: () => number;
  /** What /metrics serves instead of this process's own registry (a cluster worker serves its whole group's). */
  readonly groupMetrics?: () => Promise<{ contentType: string; body: string }>;
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
  /**
   * Loads, validates and applies the config file, logging the outcome (never rejects): a file that does not
   * validate, or rules that do not compile, leave the running ones in force.
   */
  reloadFile(file: string, trigger: string): Promise<void>;
  /** The revocation file in force (absolute), or undefined; a config reload may name another. */
  revocationsFile(): string | undefined;
  /**
   * Re-reads the revocation file and logs the outcome (never rejects); `onlyIfChanged`: skip a file whose text is
   * the same. A file that does not load leaves the last good list in force.
   */
  reloadRevocations(trigger: string, onlyIfChanged?: boolean): Promise<void>;
  /** Re-reads the listeners' TLS files (they are watched too); a set that fails keeps the running one. */
  reloadTls(trigger: string): void;
  /** Not ready, refuse new calls, finish in-flight calls, close listeners. */
  shutdown(): Promise<void>;
}

export async function startGatehouse(config: Config, deps: GatehouseDeps): Promise<Gatehouse> {
  const { logger } = deps;
  const audit = new AuditLog(logger);
  let draining = false;
  /** When shutdown began (performance.now()); new forwards are refused once server.shutdown_delay has passed. */
  let stoppingSince: number | undefined;
  const metrics = createMetrics({
    version: deps.version ?? readPackageVersion(),
    tenantLabel: config.metrics.tenant_label,
    keySources: () => engine.authorizer.verification.keyCache.status(),
    decisionCacheSize: () => engine.authorizer.cachedDecisions,
    now: deps.clock ?? systemClock,
    inFlight: () => admission.inFlight(),
    logLinesDropped: deps.logLinesDropped,
  });
  // Every door shares the one bound of server.max_inflight; health, readiness and metrics are never shed.
  const admission = createAdmission(config.server.max_inflight, (door) => metrics.countShed(door));
  // Issuer ids that may label metrics: the running config's, plus a reload's while its keys load.
  let issuerIds = new Set(config.issuers.map((i) => i.id));
  const recorder = decisionMetrics(metrics, { isConfiguredIssuer: (id) => issuerIds.has(id) });
  recorder.setIssuers(issuerIds);
  const observer = observeAll(loggingObserver(logger), recorder.observer);
  // Read by the metrics above only at scrape time, after this line.
  const engine = new RunningEngine(
    config,
    { clock: deps.clock, fetch: deps.fetch, observer },
    {
      reloaded: (outcome) => metrics.countReload(outcome),
      revocationsLoaded: (outcome, entries) => metrics.countRevocationLoad(outcome, entries),
      issuersLoading: (ids) => {
        issuerIds = new Set(ids);
      },
      issuersServing: (ids) => {
        issuerIds = new Set(ids);
        recorder.setIssuers(issuerIds);
      },
    },
  );

  const hooks: DecisionHooks = {
    onAuthorize(action, outcome, seconds, requestId, door) {
      audit.record({ requestId, action, outcome, latencySeconds: seconds, door });
      recorder.onAuthorize(action, outcome, seconds, requestId, door);
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

  const tlsEvents = tlsReloadEvents(metrics, logger);
  const tls = {
    grpc: config.server.tls && new TlsReloader('grpc', config.server.tls, tlsEvents),
    http: config.server.http_tls && new TlsReloader('http', config.server.http_tls, tlsEvents),
  };
  const reloaders = [tls.grpc, tls.http].filter((r) => r !== undefined);
  for (const reloader of reloaders) metrics.tlsInForce(reloader.listener, reloader.current.notAfter);
  const grpc = await startGrpcServer({
    address: config.server.grpc,
    tls: tls.grpc,
    maxMessageBytes: config.server.max_message_bytes,
    maxConnectionAge: { ageMs: config.server.max_connection_age, graceMs: config.server.shutdown_grace },
    authorizer: () => engine.authorizer,
    stripAuthorization: (issuerId) => stripAuthorization(engine.config, issuerId),
    hooks,
    interceptors: [grpcMetricsInterceptor(metrics.grpc)],
    admission,
  });
  preinitialiseGrpcMetrics(metrics.grpc, grpc.methods);
  let http;
  try {
    http = await startHttpServer({
      address: config.server.http,
      readiness: () => readiness(engine.authorizer, draining, config.server.readiness),
      metrics: deps.groupMetrics ?? (() => metrics.exposition()),
      maxHeaderBytes: maxHeaderBytes(config.tokens.max_bytes),
      tls: tls.http,
      forwardAuth: !config.server.forward_auth
        ? undefined
        : admittedHandler(
            admission,
            forwardAuthHandler({
              authorizer: () => engine.authorizer,
              hooks,
              shuttingDown: () => stoppingSince !== undefined && performance.now() - stoppingSince >= config.server.shutdown_delay,
              forwardedHeaders: () => engine.config.proxy.forwarded_headers,
              onMalformed(problem, requestId) {
                logger.warn({ request_id: requestId, door: 'http', problem }, 'forward refused before any decision: malformed');
              },
            }),
          ),
    });
  } catch (err) {
    await grpc.shutdown(0);
    for (const reloader of reloaders) reloader.stop();
    throw err;
  }
  for (const reloader of reloaders) reloader.watch();
  const prefetched = engine.authorizer.verification.keyCache.start();
  logger.info(
    {
      grpc: grpc.port,
      http: http.port,
      issuers: config.issuers.map((i) => i.id),
      rules: config.rules.length,
      revocations: engine.revocations.list.size,
    },
    'gatehouse listening',
  );

  return {
    grpcPort: grpc.port,
    httpPort: http.port,
    authorizer: () => engine.authorizer,
    prefetched,
    metrics,
    async reload(next) {
      await engine.reload(next);
    },
    async reloadFile(file, trigger) {
      let next: Config;
      try {
        next = await engine.reloadFile(file);
      } catch (err) {
        const why = err instanceof ConfigError || err instanceof PolicyError ? { problems: err.problems } : { err };
        logger.error({ file, trigger, ...why }, 'config reload failed; the running rules stay in force');
        return;
      }
      warnRestartNeeded(config, next, logger);
      logger.level = next.logging.level;
      logger.info({ file, trigger, issuers: next.issuers.map((i) => i.id), rules: next.rules.length }, 'config reloaded');
    },
    revocationsFile: () => engine.revocations.file,
    async reloadRevocations(trigger, onlyIfChanged = false) {
      const before = engine.revocations.list;
      try {
        const entries = await engine.reloadRevocations(onlyIfChanged);
        if (engine.revocations.list !== before) logger.info({ file: engine.revocations.file, trigger, entries }, 'revocations loaded');
      } catch (err) {
        const why = err instanceof ConfigError ? { problems: err.problems } : { err };
        logger.error({ file: engine.revocations.file, trigger, ...why }, 'revocations load failed; the last good list stays in force');
      }
    },
    reloadTls(trigger) {
      for (const reloader of reloaders) reloader.reload(trigger);
    },
    async shutdown() {
      for (const reloader of reloaders) reloader.stop();
      draining = true;
      stoppingSince = performance.now();
      const { shutdown_grace: grace, shutdown_delay: delay } = config.server;
      const grpcDrained = grpc.shutdown(grace, delay);
      // HTTP forwards are served through the delay too; then both doors drain their in-flight calls together.
      if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
      // The HTTP listener stays up until both have drained, so /readyz and /metrics answer throughout.
      await Promise.all([grpcDrained, http.drain(grace)]);
      await http.close();
      engine.stop();
      logger.info('gatehouse stopped');
    },
  };
}

/** Read once at start: the listeners are bound, the metrics registered, the log transport built. */
const START_ONLY_SECTIONS = ['server', 'metrics'] as const;

function warnRestartNeeded(started: Config, next: Config, logger: Logger): void {
  const changed: string[] = [];
  for (const section of START_ONLY_SECTIONS) {
    const before: Record<string, unknown> = started[section];
    const after: Record<string, unknown> = next[section];
    for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
      if (!isDeepStrictEqual(before[key], after[key])) changed.push(`${section}.${key}`);
    }
  }
  if (started.logging.pretty !== next.logging.pretty) changed.push('logging.pretty');
  for (const key of changed) logger.warn({ key }, `${key} changed; it takes effect only after a restart`);
}

/** `issuers[].strip_authorization` of the issuer when it says, else `proxy.strip_authorization`. */
function stripAuthorization(config: Config, issuerId: string): boolean {
  return config.issuers.find((issuer) => issuer.id === issuerId)?.strip_authorization ?? config.proxy.strip_authorization;
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

/** A TLS reload is counted and logged; a refusal names each bad key as the config check would. */
function tlsReloadEvents(metrics: GatehouseMetrics, logger: Logger): TlsReloadEvents {
  const section = (listener: TlsListener) => (listener === 'grpc' ? 'server.tls' : 'server.http_tls');
  return {
    reloaded(listener, material, trigger) {
      metrics.countTlsReload(listener, 'success');
      metrics.tlsInForce(listener, material.notAfter);
      const notAfter = new Date(material.notAfter).toISOString();
      logger.info({ listener, trigger, serial: material.serial, not_after: notAfter }, 'TLS certificate reloaded; new connections get it');
    },
    refused(listener, problems, trigger) {
      metrics.countTlsReload(listener, 'failure');
      const named = problems.map(([key, message]) => `${section(listener)}.${key}: ${message}`);
      logger.error({ listener, trigger, problems: named }, 'TLS reload failed; the running certificate stays in force');
    },
    cannotWatch(listener, dir, err) {
      logger.warn({ listener, dir, err }, 'cannot watch this TLS directory; SIGHUP reloads it');
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
