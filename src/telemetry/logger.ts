/**
 * pino, built once in main and handed down. Tokens and `authorization` metadata are redacted wherever they
 * appear; the core never logs (it reports through observers), so these paths cover every place one could land.
 */
import { pino, type DestinationStream, type Logger, type LevelWithSilent } from 'pino';
import { boundedDestination } from './log-destination.js';

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

/** logging.buffer_bytes by default: about a second of lines at 10 k decisions/s, before a stalled reader costs lines. */
export const DEFAULT_LOG_BUFFER_BYTES = 4 * 1024 * 1024;

export interface LoggerOptions {
  readonly level: LevelWithSilent;
  /** Human-readable output (gatehouse dev); JSON lines otherwise. */
  readonly pretty?: boolean;
  /**
   * Where lines go; by default stdout through a bounded buffer of logging.buffer_bytes (log-destination.ts). Tests
   * pass a stream and parse what was written.
   */
  readonly destination?: DestinationStream;
  /**
   * One write per line, as it is logged: several processes sharing one stdout pipe (server.workers > 1) then never
   * interleave within a line (a write of up to PIPE_BUF, 4 KiB, is atomic; buffered writes are larger and may be split).
   */
  readonly linePerWrite?: boolean;
  /** The clock of the lines' `time` (tests fix it); default Date.now. */
  readonly now?: () => number;
}

export function createLogger(options: LoggerOptions): Logger {
  const base = {
    level: options.level,
    base: { service: 'gatehouse' },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    timestamp: isoTimePerMillisecond(options.now),
    formatters: { level: (label: string) => ({ level: label }) },
  };
  if (options.destination) return pino(base, options.destination);
  if (options.pretty) {
    return pino({ ...base, transport: { target: 'pino-pretty', options: { colorize: true, ignore: 'pid,hostname,service' } } });
  }
  return pino(base, boundedDestination(process.stdout, DEFAULT_LOG_BUFFER_BYTES, options.linePerWrite === true));
}

/**
 * pino's isoTime (`,"time":"2026-12-01T23:59:59.123Z"`), formatted once per millisecond: under load many lines share
 * a millisecond, and `toISOString` was a tenth of an audit line's cost. The same text, to the millisecond.
 */
export function isoTimePerMillisecond(now: () => number = Date.now): () => string {
  let at = Number.NaN;
  let text = '';
  return () => {
    const ms = now();
    if (ms !== at) {
      at = ms;
      text = `,"time":"${new Date(ms).toISOString()}"`;
    }
    return text;
  };
}

/** The final flush of log lines waits at most this long. */
const FINAL_FLUSH_MS = 500;

/**
 * Exits with `code` once the log's buffered lines are written, or after half a second: a reader that stalled must
 * not hold the exit.
 */
export function exitAfterFlush(logger: Logger, code: number): void {
  const exit = () => process.exit(code);
  setTimeout(exit, FINAL_FLUSH_MS).unref();
  try {
    logger.flush(() => exit());
  } catch {
    exit();
  }
}
