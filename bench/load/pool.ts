/**
 * The main thread's side of the load generator: a few worker threads (one per core by default), each running a
 * share of a job, and the merged figures: calls/s, latency percentiles, errors, and the server's CPU per call read
 * over exactly the measured window.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { JobSpec, WorkerResult } from './job.js';
import type { ServerProcess } from './server-process.js';
import { summarizeLatencies, type LatencySummary } from './stats.js';

export interface LoadFigures extends LatencySummary {
  readonly calls_per_second: number;
  readonly errors: number;
  readonly error_samples?: readonly string[];
  /** Server CPU time over the window ÷ calls answered in it (absent without a server process). */
  readonly server_cpu_us_per_call?: number;
  /** Server CPU over the window ÷ its length: 1 = one core busy. */
  readonly server_cores?: number;
}

export interface LoadRun {
  readonly figures: LoadFigures;
  /** Per worker, with `timeline`. */
  readonly results: readonly WorkerResult[];
  /** The server's CPU time over the window, µs (0 without a server process). */
  readonly serverCpuMicros: number;
}

/** A job as the caller states it: totals for the whole pool, no start time yet. */
export type PoolJob = Omit<JobSpec, 'startAt' | 'concurrency' | 'ratePerSecond'> & {
  readonly concurrency?: number;
  readonly ratePerSecond?: number;
};

const now = () => performance.timeOrigin + performance.now();
const at = (t: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, t - now())));

export class LoadPool {
  readonly #workers: Worker[];

  constructor(readonly size = Math.max(1, Math.min(availableParallelism(), 4))) {
    this.#workers = Array.from({ length: size }, () => new Worker(new URL('./worker-entry.mjs', import.meta.url)));
  }

  async run(job: PoolJob, server?: ServerProcess): Promise<LoadRun> {
    const share = (total: number | undefined, k: number) =>
      total === undefined ? undefined : Math.floor(total / this.size) + (k < total % this.size ? 1 : 0);
    const reply = <T>(worker: Worker) =>
      new Promise<T>((resolve, reject) =>
        worker.once('message', (m: T & { error?: string }) => (m.error ? reject(new Error(m.error)) : resolve(m))),
      );
    await Promise.all(
      this.#workers.map((worker, k) => {
        const concurrency = share(job.concurrency, k);
        const ratePerSecond = job.ratePerSecond === undefined ? undefined : job.ratePerSecond / this.size;
        const spec: JobSpec = { ...job, startAt: 0, concurrency, ratePerSecond };
        const answered = reply<{ prepared: true }>(worker);
        worker.postMessage({ prepare: { job: spec, seed: k } });
        return answered;
      }),
    );
    const startAt = now() + 20;
    const measureFrom = startAt + job.warmupMs;
    const results = this.#workers.map((worker) => {
      const answered = reply<{ result: WorkerResult }>(worker).then((m) => m.result);
      worker.postMessage({ go: startAt });
      return answered;
    });
    let cpuBefore = 0;
    let cpuAfter = 0;
    const sampled = (async () => {
      await at(measureFrom);
      cpuBefore = server?.cpuMicros() ?? 0;
      await at(measureFrom + job.durationMs);
      cpuAfter = server?.cpuMicros() ?? 0;
    })();
    const all = await Promise.all(results);
    await sampled;
    const serverCpuMicros = cpuAfter - cpuBefore;
    return { figures: merge(all, job.durationMs, server ? serverCpuMicros : undefined), results: all, serverCpuMicros };
  }

  async close(): Promise<void> {
    await Promise.all(this.#workers.map((w) => w.terminate()));
  }
}

export function merge(results: readonly WorkerResult[], durationMs: number, serverCpuMicros?: number): LoadFigures {
  const total = results.reduce((n, r) => n + r.latencies.length, 0);
  const latencies = new Float64Array(total);
  let offset = 0;
  for (const r of results) {
    latencies.set(r.latencies, offset);
    offset += r.latencies.length;
  }
  const errors = results.reduce((n, r) => n + r.errors, 0);
  const samples = results.flatMap((r) => r.errorSamples).slice(0, 5);
  return {
    calls_per_second: Math.round(total / (durationMs / 1000)),
    ...summarizeLatencies(latencies),
    errors,
    ...(samples.length ? { error_samples: samples } : {}),
    ...(serverCpuMicros === undefined
      ? {}
      : {
          server_cpu_us_per_call: total ? Math.round((serverCpuMicros / total) * 10) / 10 : 0,
          server_cores: Math.round((serverCpuMicros / 1000 / durationMs) * 100) / 100,
        }),
  };
}
