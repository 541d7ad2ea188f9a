/**
 * `gatehouse serve`: the production entry. A config with any problem is reported on stderr and the process
 * exits 2 before a port is opened; once running, main.ts owns signals and reloads. With server.workers > 1 this
 * process becomes the primary of that many workers (src/cluster/primary.ts), each of which runs this same command.
 */
import cluster from 'node:cluster';
import { exitAfterFlush } from '../telemetry/logger.js';
import { checkConfigFile } from './check-config.js';
import { createCliLogger } from './cli-logger.js';
import { EXIT_FAILED } from './exit-codes.js';
import { renderProblems } from './render.js';

/** Exit 1 when a valid config still cannot start (a port in use, say). */
export const EXIT_START_FAILED = 1;

/** Resolves once listening (undefined: keep running), or to an exit code. */
export async function serveCommand(configFile: string | undefined): Promise<number | undefined> {
  if (!configFile) {
    console.error('gatehouse serve: no config file: pass --config FILE or set GATEHOUSE_CONFIG');
    return EXIT_FAILED;
  }
  const checked = checkConfigFile(configFile);
  if (!checked.ok) {
    console.error(renderProblems(configFile, checked.problems));
    return EXIT_FAILED;
  }
  const { config } = checked;
  const { worker } = cluster;
  const primary = config.server.workers > 1 && cluster.isPrimary;
  // A group's processes share one stdout: one write per line, so lines never interleave (and the primary's last
  // lines are written, in order, before it exits).
  const { logger: cliLogger, logLinesDropped } = createCliLogger(
    config.logging.level,
    config.logging.pretty,
    config.logging.buffer_bytes,
    primary || worker !== undefined,
  );
  const logger = worker ? cliLogger.child({ worker: worker.id }) : cliLogger;
  try {
    // Loaded on demand: the primary never loads the server (gRPC and all), so it stays small.
    if (primary) await (await import('../cluster/primary.js')).runPrimary(config, { logger });
    else {
      const { runServer } = await import('../main.js');
      const link = worker ? (await import('../cluster/primary-link.js')).linkToPrimary() : undefined;
      await runServer(config, { configFile, logger, primary: link, deps: { logLinesDropped } });
    }
  } catch (err) {
    logger.error({ err }, 'gatehouse could not start');
    console.error(`gatehouse serve: could not start: ${(err as Error).message}`);
    // A worker's IPC channel would keep it alive; its primary sees the exit code.
    if (worker) exitAfterFlush(logger, EXIT_START_FAILED);
    return EXIT_START_FAILED;
  }
  return undefined;
}
