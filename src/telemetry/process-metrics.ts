/** Node's default process metrics, as every registry of gatehouse's exposes them (a server's, a primary's). */
import { collectDefaultMetrics, type Registry } from 'prom-client';

/** Node's default process metrics (CPU, memory, event loop, GC). */
export function collectProcessMetrics(registry: Registry): void {
  collectDefaultMetrics({ register: registry });
  // Gauges named like counters fail `promtool check metrics`; sum(nodejs_active_handles) etc. give the same.
  for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) {
    registry.removeSingleMetric(name);
  }
}
