/**
 * The logger of `serve` and `dev`: pretty when asked and pino-pretty is installed (a dev dependency), else JSON lines
 * to stdout through a bounded buffer that drops (and counts) lines rather than block (telemetry/log-destination.ts).
 */
import { createRequire } from 'node:module';
import type { LevelWithSilent } from 'pino';
import { boundedDestination } from '../telemetry/log-destination.js';
import { createLogger, type Logger } from '../telemetry/logger.js';

export interface CliLogger {
  readonly logger: Logger;
  /** Lines dropped so far (for gatehouse_log_lines_dropped_total); always 0 when pretty. */
  readonly logLinesDropped: () => number;
}

/** `linePerWrite`: one write per line, for processes sharing one stdout (server.workers > 1). */
export function createCliLogger(level: LevelWithSilent, pretty: boolean, bufferBytes: number, linePerWrite = false): CliLogger {
  // An orphaned gatehouse (its parent and pipes gone) must not crash on a stray write to stderr (a Node warning).
  process.stderr.on('error', () => {});
  const usePretty = pretty && prettyInstalled();
  if (usePretty) return { logger: createLogger({ level, pretty: true }), logLinesDropped: () => 0 };
  const destination = boundedDestination(process.stdout, bufferBytes, linePerWrite);
  const logger = createLogger({ level, destination });
  if (pretty) logger.warn('logging.pretty is on but pino-pretty is not installed; logging JSON lines');
  return { logger, logLinesDropped: destination.dropped };
}

function prettyInstalled(): boolean {
  try {
    createRequire(import.meta.url).resolve('pino-pretty');
    return true;
  } catch {
    return false;
  }
}
