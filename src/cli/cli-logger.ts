/** The logger of `serve` and `dev`: pretty when asked and pino-pretty is installed (a dev dependency), else JSON lines. */
import { createRequire } from 'node:module';
import type { LevelWithSilent } from 'pino';
import { createLogger, type Logger } from '../telemetry/logger.js';

export function createCliLogger(level: LevelWithSilent, pretty: boolean, linePerWrite = false): Logger {
  const usePretty = pretty && prettyInstalled();
  const logger = createLogger({ level, pretty: usePretty, linePerWrite });
  if (pretty && !usePretty) logger.warn('logging.pretty is on but pino-pretty is not installed; logging JSON lines');
  return logger;
}

function prettyInstalled(): boolean {
  try {
    createRequire(import.meta.url).resolve('pino-pretty');
    return true;
  } catch {
    return false;
  }
}
