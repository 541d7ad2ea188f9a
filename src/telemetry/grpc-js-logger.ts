/**
 * grpc-js logs through a process-wide logger that writes to the console: a metadata entry it cannot parse
 * (`authorization: Bearer<TAB><token>`) is printed with its value, and its tracers (GRPC_TRACE, with
 * GRPC_VERBOSITY=DEBUG) print whole request metadata. This routes every grpc-js line through our logger,
 * redacted: its errors as warnings, everything else at debug. Verbosity stays as grpc-js reads it from the
 * environment (GRPC_VERBOSITY, default ERROR).
 */
import { setLogger } from '@grpc/grpc-js';
import { format } from 'node:util';
import { redactSecrets } from '../contract/redact-secrets.js';
import type { Logger } from './logger.js';

/** Installs the redacting grpc-js logger. Process-wide: only entry points call it (main.ts). */
export function installGrpcJsLogger(logger: Logger): void {
  const log = logger.child({ component: 'grpc-js' });
  const text = (args: unknown[]) => redactSecrets(format(...args));
  setLogger({
    error: (...args: unknown[]) => log.warn(text(args)),
    info: (...args: unknown[]) => log.debug(text(args)),
    debug: (...args: unknown[]) => log.debug(text(args)),
  });
}
