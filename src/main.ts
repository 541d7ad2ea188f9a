/**
 * The one module with process side effects: start gatehouse, then own the process's signals and the watches
 * on the config file and the revocation file. SIGTERM/SIGINT drain and exit 0 (a second signal exits 1 at once);
 * SIGHUP or a change of the config file reloads the rules, and a reload that fails keeps the running rules; SIGHUP
 * or a change of the revocation file reloads the list, and one that fails keeps the last good list. SIGHUP also
 * re-reads the listeners' TLS files (which gatehouse watches itself).
 *
 * Under a primary (server.workers > 1, src/cluster/primary.ts) the same, except: the primary watches the config
 * and revocation files and tells this worker of changes, /metrics answers for the whole group, and a second signal
 * forces nothing (the primary forwards signals, a terminal's Ctrl-C reaches both, and the primary enforces the grace).
 */
import { readFileSync } from 'node:fs';
import type { PrimaryLink } from './cluster/primary-link.js';
import { startGatehouse, type Gatehouse, type GatehouseDeps } from './app.js';
import type { Config } from './config/schema.js';
import { watchFile } from './config/watch-file.js';
import { installGrpcJsLogger } from './telemetry/grpc-js-logger.js';
import { exitAfterFlush, type Logger } from './telemetry/logger.js';

export interface RunServerOptions {
  /** The file `config` came from; SIGHUP and changes to it reload. Without it, there is nothing to reload. */
  readonly configFile?: string;
  readonly logger: Logger;
  /** Runs after gatehouse has stopped, before exit (`gatehouse dev` closes its issuer here). */
  readonly onStopped?: () => Promise<void>;
  readonly deps?: Omit<GatehouseDeps, 'logger'>;
  /** Set in a cluster worker (server.workers > 1): its primary. */
  readonly primary?: PrimaryLink;
}

type Watch = (file: string, onChange: () => void) => () => void;

export interface RunningServer {
  readonly gatehouse: Gatehouse;
}

/** Starts gatehouse and installs the signal handlers and the config watch. Rejects if it cannot start. */
export async function runServer(config: Config, options: RunServerOptions): Promise<RunningServer> {
  const { logger, configFile, primary } = options;
  const watch: Watch = primary
    ? (file, onChange) => primary.watch(file, onChange)
    : (file, onChange) => watchFile(file, onChange, cannotWatch(logger, file));
  installGrpcJsLogger(logger); // grpc-js would print an unparsable `authorization` value, token and all
  // Read and watch before starting, so a change made while gatehouse starts is not missed.
  const startedText = configFile ? readText(configFile) : undefined;
  let reloader: ReturnType<typeof configReloader> | undefined;
  let changedWhileStarting = false;
  const onChange = () => {
    if (reloader) void reloader.reload('file change');
    else changedWhileStarting = true;
  };
  const unwatch = configFile ? watch(configFile, onChange) : () => {};
  const started: { gatehouse?: Gatehouse } = {};
  // Installed now: the default actions of these signals would end a process still starting. A stop signal
  // while starting is kept, and acted on once started (a second one exits at once).
  let stopWhenStarted: NodeJS.Signals | undefined;
  let onStopSignal = (signal: NodeJS.Signals) => {
    if (stopWhenStarted === undefined) stopWhenStarted = signal;
    else if (!primary) exitAfterFlush(logger, 1);
  };
  process.on('SIGTERM', (signal) => onStopSignal(signal));
  process.on('SIGINT', (signal) => onStopSignal(signal));
  process.on('SIGHUP', () => {
    started.gatehouse?.reloadTls('SIGHUP');
    if (reloader) void reloader.reload('SIGHUP').then(() => gatehouse.reloadRevocations('SIGHUP'));
    else if (configFile) changedWhileStarting = true;
    else logger.info('SIGHUP: no config file to reload (this config is built in)');
  });
  let gatehouse: Gatehouse;
  try {
    gatehouse = await startGatehouse(config, { ...options.deps, logger, groupMetrics: primary?.groupMetrics });
  } catch (err) {
    unwatch();
    throw err;
  }
  started.gatehouse = gatehouse;
  primary?.serving(gatehouse.metrics.registry, { grpc: gatehouse.grpcPort, http: gatehouse.httpPort });
  const revocations = revocationWatch(gatehouse, watch);
  if (configFile) reloader = configReloader(gatehouse, configFile, startedText, revocations.follow);
  if (changedWhileStarting) onChange();

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping && primary) {
      logger.debug({ signal }, 'already shutting down; the primary enforces server.shutdown_grace');
      return;
    }
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting without finishing in-flight calls');
      exitAfterFlush(logger, 1);
      return;
    }
    stopping = true;
    reloader?.stop();
    unwatch();
    revocations.stop();
    logger.info({ signal }, 'shutting down: finishing in-flight calls');
    // The drain is bounded by server.shutdown_grace already; this holds even if something in it never settles.
    const overrun = config.server.shutdown_delay + config.server.shutdown_grace + SHUTDOWN_SLACK_MS;
    setTimeout(() => {
      logger.error({ signal, after_ms: overrun }, 'shutdown overran server.shutdown_grace; exiting');
      exitAfterFlush(logger, 1);
    }, overrun).unref();
    gatehouse
      .shutdown()
      .then(() => options.onStopped?.())
      .then(
        () => exitAfterFlush(logger, 0),
        (err: unknown) => {
          logger.error({ err }, 'shutdown failed');
          exitAfterFlush(logger, 1);
        },
      );
  };
  onStopSignal = stop;
  if (stopWhenStarted) stop(stopWhenStarted);
  return { gatehouse };
}

type Trigger = 'SIGHUP' | 'file change';

/**
 * Hands reloads to gatehouse (which validates, applies, counts and logs them, one at a time); a file event
 * reloads only if the file's text actually changed.
 */
function configReloader(gatehouse: Gatehouse, file: string, startedText: string | undefined, reloaded: () => void) {
  let lastText = startedText;
  let stopped = false;
  return {
    reload(trigger: Trigger): Promise<void> {
      if (stopped) return Promise.resolve();
      const text = readText(file);
      // Editors touch, rename and swap; Kubernetes swaps a symlinked directory. Only new content matters.
      if (trigger === 'file change' && text === lastText) return Promise.resolve();
      lastText = text;
      return gatehouse.reloadFile(file, trigger).then(reloaded);
    },
    stop() {
      stopped = true;
    },
  };
}

/**
 * Follows the revocation file in force: reloads it when its text changes, and moves the watch when a config
 * reload names another file (`follow`).
 */
function revocationWatch(gatehouse: Gatehouse, watch: Watch) {
  let watched: string | undefined;
  let unwatch = () => {};
  const onChange = () => void gatehouse.reloadRevocations('file change', true);
  const follow = () => {
    const file = gatehouse.revocationsFile();
    if (file === watched) return;
    unwatch();
    watched = file;
    unwatch = file ? watch(file, onChange) : () => {};
  };
  follow();
  // A change between the load at start and the watch: reloaded now (nothing happens if the text is the same).
  onChange();
  return { follow, stop: () => unwatch() };
}

function cannotWatch(logger: Logger, file: string) {
  return (dir: string, err: unknown) => logger.warn({ file, dir, err }, 'cannot watch this file here; SIGHUP reloads it');
}

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** How far past delay + grace a shutdown may run before the process exits anyway (the last log lines' flush). */
const SHUTDOWN_SLACK_MS = 1000;
