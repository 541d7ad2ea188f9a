/**
 * A/B/A/B: a scenario and its baseline run in turns (the order flipped every round), so the noise of a shared machine
 * falls on both; each side's figures merge its rounds (calls over total time, percentiles over every sample, CPU
 * over every window).
 *
 * A server's first seconds are its start-up, not its steady state: lazy compilation and the optimizing tiers, measured
 * here at a third of the steady rate for a fresh server's first second. So the first time a scenario drives a server
 * through a transport (gRPC or HTTP), that side runs half a segment unmeasured before the rounds (both sides alike).
 */
import { merge, type LoadFigures, type LoadPool, type PoolJob } from './pool.js';
import type { WorkerResult } from './job.js';
import type { ServerProcess } from './server-process.js';

export interface Side {
  readonly name: string;
  readonly job: PoolJob;
  readonly server?: ServerProcess;
}

/** Servers (by pid) and the transports they were driven through already. */
const settled = new Set<string>();

export async function alternate(pool: LoadPool, sides: readonly Side[], rounds: number): Promise<Record<string, LoadFigures>> {
  for (const side of sides) {
    const key = `${side.server?.pid ?? 'none'} ${side.job.calls.map((call) => (call.door === 'http' ? 'http' : 'grpc')).join(',')}`;
    if (settled.has(key)) continue;
    settled.add(key);
    await pool.run({ ...side.job, durationMs: side.job.durationMs / 2 }, side.server);
  }
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
