/**
 * The bench's findings: figures by scenario, ratios against their same-run baselines, each target and whether it is
 * met; written as bench/results/latest.json and latest.md (whose table bench/readme-table.ts copies to the README).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { availableParallelism, cpus, loadavg } from 'node:os';

export interface Target {
  readonly id: string;
  /** What is compared, in words. */
  readonly figure: string;
  readonly value: number;
  readonly unit: string;
  readonly op: '>=' | '<=';
  readonly bound: number;
  /** A short "how it was measured" shown beside it. */
  readonly detail: string;
}

export class Report {
  readonly sections: Record<string, unknown> = {};
  readonly targets: (Target & { pass: boolean })[] = [];
  readonly notes: string[] = [];
  readonly started = Date.now();
  /** The 1, 5 and 15 minute load averages: on a shared machine, the first thing to read beside any figure. */
  readonly loadAtStart = loadavg().map((x) => Math.round(x * 100) / 100);

  constructor(readonly mode: 'full' | 'quick') {}

  section(name: string, figures: unknown): void {
    this.sections[name] = figures;
    console.log(`${name}: ${JSON.stringify(figures)}`);
  }

  target(t: Target): void {
    const pass = t.op === '>=' ? t.value >= t.bound : t.value <= t.bound;
    this.targets.push({ ...t, pass });
    console.log(`${pass ? 'PASS' : 'MISS'} ${t.figure}: ${t.value} ${t.unit} (target ${t.op} ${t.bound})`);
  }

  machine() {
    return {
      cpus: availableParallelism(),
      model: cpus()[0]?.model ?? 'unknown',
      node: process.version,
      load_average_at_start: this.loadAtStart,
      load_average_at_end: loadavg().map((x) => Math.round(x * 100) / 100),
    };
  }

  write(dir: URL): void {
    const json: LatestJson = {
      mode: this.mode,
      date: new Date().toISOString(),
      seconds: Math.round((Date.now() - this.started) / 1000),
      machine: this.machine(),
      targets: this.targets,
      figures: this.sections,
      notes: this.notes,
    };
    // A quick run never overwrites the full run's files (the README's table comes from latest.md).
    const name = this.mode === 'quick' ? 'latest-quick' : 'latest';
    writeFileSync(new URL(`${name}.json`, dir), `${JSON.stringify(json, null, 2)}\n`);
    writeFileSync(new URL(`${name}.md`, dir), renderMarkdown(json));
  }
}

export interface LatestJson {
  readonly mode: string;
  readonly date: string;
  readonly seconds: number;
  readonly machine: { cpus: number; model: string; node: string; load_average_at_start: number[]; load_average_at_end?: number[] };
  readonly targets: readonly (Target & { pass: boolean })[];
  readonly figures: Record<string, unknown>;
  readonly notes: readonly string[];
}

interface SideFigures {
  calls_per_second: number;
  p50_ms: number;
  p99_ms: number;
  server_cpu_us_per_call?: number;
  errors: number;
}

const isSide = (v: unknown): v is SideFigures => typeof v === 'object' && v !== null && 'calls_per_second' in v && 'p99_ms' in v;

/** latest.md from latest.json: the targets (the table the README copies), then every A/B pair's figures. */
export function renderMarkdown(json: LatestJson): string {
  const { machine } = json;
  const rows = json.targets.map(
    (t) => `| ${t.figure} | ${t.detail} | ${t.value} ${t.unit} | ${t.op} ${t.bound} | ${t.pass ? 'pass' : '**miss**'} |`,
  );
  const pairs = Object.entries(json.figures).flatMap(([scenario, figures]) =>
    Object.entries((figures ?? {}) as Record<string, unknown>)
      .filter((entry): entry is [string, SideFigures] => isSide(entry[1]))
      .map(
        ([side, f]) =>
          `| ${scenario} | ${side} | ${f.calls_per_second} | ${f.p50_ms} | ${f.p99_ms} | ${f.server_cpu_us_per_call ?? ''} | ${f.errors} |`,
      ),
  );
  const end = machine.load_average_at_end ? `, ${machine.load_average_at_end.join(' ')} at the end` : '';
  return [
    `# gatehouse bench (${json.mode})`,
    '',
    `${json.date}, ${json.seconds} s; ${machine.cpus} CPUs (${machine.model}), Node ${machine.node}, load average ${machine.load_average_at_start.join(' ')} at start${end} (figures taken on a machine busier than its cores are noise).`,
    'Every ratio is against a baseline run in the same run, alternated A/B/A/B. Raw figures: `latest.json`.',
    '',
    '<!-- table:start -->',
    '',
    '| figure | measured as | value | target | |',
    '| --- | --- | --- | --- | --- |',
    ...rows,
    '',
    '<!-- table:end -->',
    '',
    '## Every pair',
    '',
    '| scenario | side | calls/s | p50 ms | p99 ms | server CPU µs/call | errors |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...pairs,
    '',
    ...json.notes.map((n) => `- ${n}`),
    '',
  ].join('\n');
}

/** `node --import tsx bench/suite/report.ts`: latest.md rendered again from latest.json (after a change to this file). */
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const dir = new URL('../results/', import.meta.url);
  writeFileSync(new URL('latest.md', dir), renderMarkdown(JSON.parse(readFileSync(new URL('latest.json', dir), 'utf8')) as LatestJson));
}
