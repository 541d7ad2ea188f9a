/**
 * A/B/A/B: a scenario and its baseline run in turns (the order flipped every round), so the noise of a shared machine
 * falls on both; each side's figures merge its rounds (calls over total time, percentiles over every sample, CPU
 * over every window).
 */
import { merge, type LoadFigures, type LoadPool, type PoolJob } from './pool.js';
import type { WorkerResult } from './job.js';
import type { ServerProcess } from './server-process.js';

export interface Side {
  readonly name: string;
  readonly job: PoolJob;
  readonly server?: ServerProcess;
}

export async function alternate(pool: LoadPool, sides: readonly Side[], rounds: number): Promise<Record<string, LoadFigures>> {
  const collected = sides.map(() => ({ results: [] as WorkerResult[], ms: 0, cpu: 0 }));
  for (let r = 0; r < rounds; r++) {
    const order = sides.map((_, k) => k);
    if (r % 2) order.reverse();
    for (const k of order) {
      const side = sides[k]!;
      const run = await pool.run(side.job, side.server);
      collected[k]!.results.push(...run.results);
      collected[k]!.ms += side.job.durationMs;
      collected[k]!.cpu += run.serverCpuMicros;
    }
  }
  return Object.fromEntries(
    sides.map((side, k) => {
      const c = collected[k]!;
      // Workers ran side by side: the calls of one round add up over its duration, not the workers' sum of durations.
      return [side.name, merge(c.results, c.ms, side.server ? c.cpu : undefined)];
    }),
  );
}
