/**
 * The one module with process side effects: start gatehouse, then own the process's signals and the watch
 * on the config file. SIGTERM/SIGINT drain and exit 0 (a second signal exits 1 at once); SIGHUP or a change
 * of the config file reloads the rules, and a reload that fails keeps the running rules.
 */
import { readFileSync, realpathSync, watch, type FSWatcher } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { startGatehouse, type Gatehouse, type GatehouseDeps } from './app.js';
import type { Config } from './config/schema.js';
import { installGrpcJsLogger } from './telemetry/grpc-js-logger.js';
import type { Logger } from './telemetry/logger.js';

/** Editors and Kubernetes change a file in several steps; wait for the last one. */
const DEBOUNCE_MS = 200;

export interface RunServerOptions {
  /** The file `config` came from; SIGHUP and changes to it reload. Without it, there is nothing to reload. */
  readonly configFile?: string;
  readonly logger: Logger;
  /** Runs after gatehouse has stopped, before exit (`gatehouse dev` closes its issuer here). */
  readonly onStopped?: () => Promise<void>;
  readonly deps?: Omit<GatehouseDeps, 'logger'>;
}

export interface RunningServer {
  readonly gatehouse: Gatehouse;
}

/** Starts gatehouse and installs the signal handlers and the config watch. Rejects if it cannot start. */
export async function runServer(config: Config, options: RunServerOptions): Promise<RunningServer> {
  const { logger, configFile } = options;
  installGrpcJsLogger(logger); // grpc-js would print an unparsable `authorization` value, token and all
  // Read and watch before starting, so a change made while gatehouse starts is not missed.
  const startedText = configFile ? readText(configFile) : undefined;
  let reloader: ReturnType<typeof configReloader> | undefined;
  let changedWhileStarting = false;
  const onChange = () => {
    if (reloader) void reloader.reload('file change');
    else changedWhileStarting = true;
  };
  const unwatch = configFile ? watchFile(configFile, onChange, logger) : () => {};
  // Installed now: SIGHUP's default action would end a process still starting.
  process.on('SIGHUP', () => {
    if (reloader) void reloader.reload('SIGHUP');
    else if (configFile) changedWhileStarting = true;
    else logger.info('SIGHUP: no config file to reload (this config is built in)');
  });
  let gatehouse: Gatehouse;
  try {
    gatehouse = await startGatehouse(config, { ...options.deps, logger });
  } catch (err) {
    unwatch();
    throw err;
  }
  if (configFile) reloader = configReloader(gatehouse, configFile, startedText);
  if (changedWhileStarting) onChange();

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting without finishing in-flight calls');
      exitAfterFlush(logger, 1);
      return;
    }
    stopping = true;
    reloader?.stop();
    unwatch();
    logger.info({ signal }, 'shutting down: finishing in-flight calls');
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
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  return { gatehouse };
}

type Trigger = 'SIGHUP' | 'file change';

/**
 * Hands reloads to gatehouse (which validates, applies, counts and logs them, one at a time); a file event
 * reloads only if the file's text actually changed.
 */
function configReloader(gatehouse: Gatehouse, file: string, startedText: string | undefined) {
  let lastText = startedText;
  let stopped = false;
  return {
    reload(trigger: Trigger): Promise<void> {
      if (stopped) return Promise.resolve();
      const text = readText(file);
      // Editors touch, rename and swap; Kubernetes swaps a symlinked directory. Only new content matters.
      if (trigger === 'file change' && text === lastText) return Promise.resolve();
      lastText = text;
      return gatehouse.reloadFile(file, trigger);
    },
    stop() {
      stopped = true;
    },
  };
}

/**
 * Watches the file's directory, not the file: an editor that writes a new file and renames it over the old
 * one, or a ConfigMap update (a `..data` symlink swap), leaves a watch on the old inode deaf. When the file
 * is a symlink, the directory of its target is watched too (and re-resolved after each change).
 */
function watchFile(file: string, onChange: () => void, logger: Logger): () => void {
  const watchers = new Map<string, FSWatcher>();
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  const changed = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      if (closed) return;
      sync();
      onChange();
    }, DEBOUNCE_MS);
  };
  const sync = () => {
    const wanted = new Set([dirname(resolve(file))]);
    try {
      wanted.add(dirname(realpathSync(file)));
    } catch {
      // The file is gone for now (mid-replace); its own directory is still watched.
    }
    for (const [dir, watcher] of watchers) {
      if (!wanted.has(dir)) {
        watcher.close();
        watchers.delete(dir);
      }
    }
    for (const dir of wanted) {
      if (watchers.has(dir)) continue;
      try {
        const watcher = watch(dir, { persistent: false }, changed);
        watcher.on('error', () => {
          watcher.close();
          watchers.delete(dir);
        });
        watchers.set(dir, watcher);
      } catch (err) {
        logger.warn({ file, dir, err }, 'cannot watch the config file here; SIGHUP reloads');
      }
    }
  };
  sync();
  return () => {
    closed = true;
    clearTimeout(timer);
    for (const watcher of watchers.values()) watcher.close();
    watchers.clear();
  };
}

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

function exitAfterFlush(logger: Logger, code: number): void {
  const exit = () => process.exit(code);
  setTimeout(exit, 1000).unref();
  try {
    logger.flush(() => exit());
  } catch {
    exit();
  }
}
