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
import type { Logger } from './telemetry/logger.js';
import type { Clock } from './verification/clock.js';
import type { Fetch } from './verification/fetch-json.js';
import type { VerificationObserver } from './verification/observer.js';

export interface GatehouseDeps {
  readonly logger: Logger;
  readonly clock?: Clock;
  readonly fetch?: Fetch;
}

export interface Gatehouse {
  readonly grpcPort: number;
  readonly httpPort: number;
  /** The engine serving calls now (a reload that changes issuers swaps it). */
  authorizer(): Authorizer;
  /** Resolves once every issuer's first key fetch has finished (successfully or not). */
  readonly prefetched: Promise<void>;
  /** Applies a new config's rules (and issuers); on failure keeps the running ones and throws. */
  reload(config: Config): Promise<void>;
  /** Not ready, refuse new calls, finish in-flight calls, close listeners. */
  shutdown(): Promise<void>;
}

export async function startGatehouse(config: Config, deps: GatehouseDeps): Promise<Gatehouse> {
  const { logger } = deps;
  const audit = new AuditLog(logger);
  const observer = loggingObserver(logger);
  let current = createAuthorizer(config, { clock: deps.clock, fetch: deps.fetch, observer });
  let running = config;
  let draining = false;

  const hooks: DecisionHooks = {
    onAuthorize(action, outcome, seconds, requestId, via) {
      audit.record({ requestId, action, outcome, latencySeconds: seconds, via });
    },
    onVerify(outcome, seconds, _cached, requestId) {
      if (!logger.isLevelEnabled('debug')) return;
      logger.debug(
        outcome.valid
          ? {
              request_id: requestId,
              subject: outcome.principal.subject,
              issuer: outcome.principal.issuerId,
              valid: true,
              latency_ms: seconds * 1e3,
            }
          : { request_id: requestId, valid: false, reason: outcome.reason, detail: outcome.detail, latency_ms: seconds * 1e3 },
        'verify',
      );
    },
    onInternalError(method, err, requestId) {
      logger.error({ request_id: requestId, method, err }, 'internal error; the caller got INTERNAL');
    },
  };

  const grpc = await startGrpcServer({
    address: config.server.grpc,
    maxMessageBytes: config.server.max_message_bytes,
    authorizer: () => current,
    hooks,
  });
  let http;
  try {
    http = await startHttpServer({
      address: config.server.http,
      readiness: () => readiness(current, draining),
    });
  } catch (err) {
    await grpc.shutdown(0);
    throw err;
  }
  const prefetched = current.verification.keyCache.start();
  logger.info(
    { grpc: grpc.port, http: http.port, issuers: config.issuers.map((i) => i.id), rules: config.rules.length },
    'gatehouse listening',
  );

  return {
    grpcPort: grpc.port,
    httpPort: http.port,
    authorizer: () => current,
    prefetched,
    async reload(next) {
      const issuersChanged =
        JSON.stringify([next.issuers, next.keys, next.tokens]) !== JSON.stringify([running.issuers, running.keys, running.tokens]);
      if (issuersChanged) {
        const replacement = createAuthorizer(next, { clock: deps.clock, fetch: deps.fetch, observer });
        await replacement.verification.keyCache.start();
        const old = current;
        current = replacement;
        old.verification.keyCache.stop();
      } else {
        current.setPolicy(compilePolicy(next));
      }
      running = next;
    },
    async shutdown() {
      draining = true;
      await grpc.shutdown(config.server.shutdown_grace);
      await http.close();
      current.verification.keyCache.stop();
      logger.info('gatehouse stopped');
    },
  };
}

function readiness(authorizer: Authorizer, draining: boolean) {
  const sources = authorizer.verification.keyCache.status();
  const ready = !draining && sources.every((s) => s.usable || s.loading);
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
