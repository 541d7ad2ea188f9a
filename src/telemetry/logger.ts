/**
 * pino, built once in main and handed down. Tokens and `authorization` metadata are redacted wherever they
 * appear; the core never logs (it reports through observers), so these paths cover every place one could land.
 */
import { pino, type DestinationStream, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

/**
 * Exact paths only: a wildcard path (`*.token`) costs ~10 µs a line in pino's redaction, on every decision.
 * Every log call site is ours and passes named fields, so these name every place a secret could be put.
 */
export const REDACT_PATHS = [
  'token',
  'authorization',
  'access_token',
  'client_secret',
  'client_assertion',
  'metadata.authorization',
  'headers.authorization',
  'req.headers.authorization',
  'request.token',
];

export interface LoggerOptions {
  readonly level: LevelWithSilent;
  /** Human-readable output (gatehouse dev); JSON lines otherwise. */
  readonly pretty?: boolean;
  /** Where lines go; stdout by default. Tests pass a stream and parse what was written. */
  readonly destination?: DestinationStream;
  /**
   * One write per line, as it is logged: several processes sharing one stdout pipe (server.workers > 1) then never
   * interleave within a line (a write of up to PIPE_BUF, 4 KiB, is atomic; buffered writes are larger and may be split).
   */
  readonly linePerWrite?: boolean;
}

export function createLogger(options: LoggerOptions): Logger {
  const base = {
    level: options.level,
    base: { service: 'gatehouse' },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
  };
  if (options.destination) return pino(base, options.destination);
  if (options.pretty) {
    return pino({ ...base, transport: { target: 'pino-pretty', options: { colorize: true, ignore: 'pid,hostname,service' } } });
  }
  return pino(base, pino.destination({ sync: options.linePerWrite === true }));
}

/** Exits with `code` once the log's buffered lines are written (at most a second later). */
export function exitAfterFlush(logger: Logger, code: number): void {
  const exit = () => process.exit(code);
  setTimeout(exit, 1000).unref();
  try {
    logger.flush(() => exit());
  } catch {
    exit();
  }
}
