/**
 * /metrics for a process group (server.workers > 1): prom-client's AggregatorRegistry, the library's own answer
 * for node:cluster, merges every process's metrics by name and labels. Each metric's `aggregator` says how
 * (sum unless metrics.ts says otherwise; Node's process metrics bring their own, e.g. `first` for the version).
 */
import { AggregatorRegistry, type MetricObjectWithValues, type MetricValue, type Registry } from 'prom-client';

/** One process's metrics, as `registry.getMetricsAsJSON()` gives them (what AggregatorRegistry.aggregate takes). */
export type MetricsJson = MetricObjectWithValues<MetricValue<string>>[];

/** A process's metrics in the form the aggregation takes (sent over IPC as JSON). */
export function metricsJson(registry: Registry): Promise<MetricsJson> {
  return registry.getMetricsAsJSON();
}

/** The Prometheus text exposition of several processes' metrics, merged. */
export async function aggregateExposition(parts: readonly MetricsJson[]): Promise<{ contentType: string; body: string }> {
  const merged = AggregatorRegistry.aggregate([...parts]);
  return { contentType: merged.contentType, body: await merged.metrics() };
}
