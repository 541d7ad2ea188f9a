/**
 * The logging the client needs: a pino-compatible `warn(fields, message)`. Without a logger it writes JSON
 * lines to stderr, because the one thing it logs (a call let through with failOpen) must never be silent.
 */

export interface ClientLogger {
  warn(fields: Record<string, unknown>, message: string): void;
}

export const stderrLogger: ClientLogger = {
  warn(fields, message) {
    process.stderr.write(
      `${JSON.stringify({ level: 'warn', time: new Date().toISOString(), name: 'gatehouse-client', ...fields, msg: message })}\n`,
    );
  },
};

/**
 * At most one line per `intervalMs`; the next line that gets through says how many were held back, so a flood
 * of identical warnings stays visible without drowning the log.
 */
export function rateLimitedWarn(logger: ClientLogger, intervalMs: number, now: () => number = Date.now): ClientLogger['warn'] {
  let last = -Infinity;
  let suppressed = 0;
  return (fields, message) => {
    const t = now();
    if (t - last < intervalMs) {
      suppressed += 1;
      return;
    }
    last = t;
    logger.warn(suppressed > 0 ? { ...fields, suppressed } : fields, message);
    suppressed = 0;
  };
}
