/**
 * The bench's findings: figures by scenario, ratios against their same-run baselines, each target and whether it is
 * met; written as bench/results/latest.json and latest.md (whose table bench/readme-table.ts copies to the README).
 */
import { writeFileSync } from 'node:fs';
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
    const machine = this.machine();
    const json = {
      mode: this.mode,
      date: new Date().toISOString(),
      seconds: Math.round((Date.now() - this.started) / 1000),
      machine,
      targets: this.targets,
      figures: this.sections,
      notes: this.notes,
    };
    writeFileSync(new URL('latest.json', dir), `${JSON.stringify(json, null, 2)}\n`);
    writeFileSync(new URL('latest.md', dir), this.markdown(json.date, json.seconds, machine));
  }

  markdown(date: string, seconds: number, machine: ReturnType<Report['machine']>): string {
    const rows = this.targets.map(
      (t) => `| ${t.figure} | ${t.detail} | ${t.value} ${t.unit} | ${t.op} ${t.bound} | ${t.pass ? 'pass' : '**miss**'} |`,
    );
    return [
      `# gatehouse bench (${this.mode})`,
      '',
      `${date}, ${seconds} s; ${machine.cpus} CPUs (${machine.model}), Node ${machine.node}, load average ${machine.load_average_at_start.join(' ')} at start, ${machine.load_average_at_end.join(' ')} at the end (a figure taken on a machine busier than its cores is noise).`,
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
      ...this.notes.map((n) => `- ${n}`),
      '',
    ].join('\n');
  }
}
