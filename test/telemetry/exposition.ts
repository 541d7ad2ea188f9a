/** Reading the Prometheus text exposition and what the dashboard asks of it, for the telemetry tests. */
import { readFileSync } from 'node:fs';

export interface Sample {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly value: number;
}

/** Every sample line (not comments) of a text exposition. */
export function parseExposition(body: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of body.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)/.exec(line);
    if (!match) throw new Error(`not an exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[key!] = value!.replace(/\\(.)/g, (_m, c: string) => (c === 'n' ? '\n' : c));
    }
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

/** The value of the one sample with `name` and exactly these labels (among others), or undefined. */
export function valueOf(samples: readonly Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  return samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}

/** Metric names the dashboard's queries select (`name{...}`, which every query of ours writes), by expression. */
export function dashboardMetricNames(file: string): Map<string, string[]> {
  const dashboard = JSON.parse(readFileSync(file, 'utf8')) as {
    panels: Array<{ targets?: Array<{ expr?: string }> }>;
    templating?: { list: Array<{ query?: unknown }> };
  };
  const exprs = [
    ...dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr ?? '')),
    ...(dashboard.templating?.list ?? []).map((v) => v.query).filter((q): q is string => typeof q === 'string' && q.includes('(')),
  ];
  return new Map(exprs.map((expr) => [expr, [...expr.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\s*\{/g)].map((m) => m[1]!)]));
}
