/**
 * `gatehouse serve`: the production entry. A config with any problem is reported on stderr and the process
 * exits 2 before a port is opened; once running, main.ts owns signals and reloads.
 */
import { runServer } from '../main.js';
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
  const { logger, logLinesDropped } = createCliLogger(config.logging.level, config.logging.pretty, config.logging.buffer_bytes);
  try {
    await runServer(config, { configFile, logger, deps: { logLinesDropped } });
  } catch (err) {
    logger.error({ err }, 'gatehouse could not start');
    console.error(`gatehouse serve: could not start: ${(err as Error).message}`);
    return EXIT_START_FAILED;
  }
  return undefined;
}
