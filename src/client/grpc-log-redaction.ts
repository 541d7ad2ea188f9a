/**
 * grpc-js logs through one process-wide logger that writes to the console, and what it logs can hold a
 * caller's token: a metadata entry it cannot parse (`authorization: Bearer<TAB><token>`) is printed with its
 * value, and its tracers (GRPC_TRACE) print whole request metadata. Importing gatehouse/client changes nothing
 * global; a service calls {@link installGrpcLogRedaction} once, at start, to route those lines through a
 * logger with tokens and `authorization` values redacted.
 */
import { setLogger } from '@grpc/grpc-js';
import { format } from 'node:util';
import { redactSecrets } from '../contract/redact-secrets.js';
import { stderrLogger, type ClientLogger } from './logger.js';

/** Where grpc-js's lines go: `warn` for its errors, `debug` (when given) for the rest; pino fits. */
export interface GrpcLogSink extends ClientLogger {
  debug?(fields: Record<string, unknown>, message: string): void;
}

/**
 * Replaces grpc-js's process-wide logger with one that redacts bearer tokens, JWTs and `authorization`
 * metadata values and writes to `logger` (default: JSON lines on stderr). grpc-js errors become warnings;
 * its info and debug lines go to `logger.debug`, or are dropped when it has none. Call once, at start.
 */
export function installGrpcLogRedaction(logger: GrpcLogSink = stderrLogger): void {
  const fields = { component: 'grpc-js' };
  const text = (args: unknown[]) => redactSecrets(format(...args));
  const debug = (...args: unknown[]) => logger.debug?.(fields, text(args));
  setLogger({ error: (...args: unknown[]) => logger.warn(fields, text(args)), info: debug, debug });
}
