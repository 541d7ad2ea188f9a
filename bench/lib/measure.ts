/** Small, dependency-free timing helpers shared by the benchmarks. Figures go to bench/results/*.json. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

export interface Rate {
  readonly opsPerSecond: number;
  readonly microsPerOp: number;
}

/** Runs `fn` in batches for about `ms`, after a warm-up run, three times; returns the median rate. */
export async function rate(fn: () => unknown, ms = 1000): Promise<Rate> {
  const runs: number[] = [];
  for (let r = 0; r < 4; r++) {
    let n = 0;
    const start = performance.now();
    while (performance.now() - start < ms / 3) {
      for (let i = 0; i < 100; i++) await fn();
      n += 100;
    }
    if (r > 0) runs.push(n / ((performance.now() - start) / 1000)); // the first run warms up
  }
  runs.sort((a, b) => a - b);
  const opsPerSecond = runs[1]!;
  return { opsPerSecond: Math.round(opsPerSecond), microsPerOp: Math.round((1e6 / opsPerSecond) * 100) / 100 };
}

export function writeResults(name: string, results: unknown): string {
  const dir = new URL('../results/', import.meta.url);
  mkdirSync(dir, { recursive: true });
  const file = new URL(`${name}.json`, dir);
  const payload = { benchmark: name, node: process.version, cores: availableParallelism(), date: new Date().toISOString(), results };
  writeFileSync(file, `${JSON.stringify(payload, null, 2)}\n`);
  return file.pathname;
}
