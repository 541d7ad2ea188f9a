/** The metrics of the primary process when `server.workers` > 1 (cluster/primary.ts). */
import { Counter, Gauge, Registry } from 'prom-client';
import { collectProcessMetrics } from './process-metrics.js';

export type PrimaryMetrics = ReturnType<typeof createPrimaryMetrics>;

/**
 * The primary's own metrics (server.workers > 1), merged into the workers' aggregate: its process metrics count
 * too, so process_cpu_seconds_total and process_resident_memory_bytes are the whole group's.
 */
export function createPrimaryMetrics() {
  const registry = new Registry();
  collectProcessMetrics(registry);
  const restarts = new Counter({
    name: 'gatehouse_worker_restarts_total',
    help: 'Workers restarted after exiting unexpectedly (server.workers > 1).',
    registers: [registry],
  });
  restarts.inc(0);
  const running = new Gauge({
    name: 'gatehouse_workers',
    help: 'Worker processes running (server.workers > 1).',
    registers: [registry],
  });
  return {
    registry,
    countRestart(): void {
      restarts.inc();
    },
    setRunning(n: number): void {
      running.set(n);
    },
  };
}
