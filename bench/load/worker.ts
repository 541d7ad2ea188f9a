/**
 * A load worker (worker_threads): runs one JobSpec at a time, closed or open loop, and posts back a WorkerResult.
 * Closed loop: `concurrency` callers, each sending its next call when the last one is answered. Open loop: calls
 * arrive on a fixed schedule whatever the answers do, and each latency counts from the intended send time.
 */
import { parentPort } from 'node:worker_threads';
import type { JobSpec, WorkerResult } from './job.js';
import { OpenLoopSchedule, latencyFromIntended } from './stats.js';
import { callMaker, type CallMaker } from './worker-calls.js';

const now = () => performance.timeOrigin + performance.now();
const sleepUntil = (t: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, t - now())));
/** An open loop stops issuing past this many calls in flight in one worker; each one not issued is an error. */
const OPEN_LOOP_MAX_IN_FLIGHT = 4096;
/** After the window, calls still in flight get this long to finish before they count as errors. */
const DRAIN_MS = 5000;

class Recorder {
  readonly latencies: number[] = [];
  readonly doneAt: number[] = [];
  readonly callIndex: number[] = [];
  readonly errorsByCall: number[];
  readonly errorSamples: string[] = [];
  errors = 0;

  constructor(
    readonly job: JobSpec,
    readonly measureFrom: number,
  ) {
    this.errorsByCall = job.calls.map(() => 0);
  }

  ok(which: number, latency: number, done: number): void {
    this.latencies.push(latency);
    if (this.job.timeline) {
      this.doneAt.push(done - this.measureFrom);
      this.callIndex.push(which);
    }
  }

  fail(which: number, err: unknown): void {
    this.errors++;
    this.errorsByCall[which]!++;
    if (this.errorSamples.length < 5) this.errorSamples.push(`${this.job.calls[which]!.door}: ${(err as Error).message ?? String(err)}`);
  }

  result(): WorkerResult {
    return {
      latencies: Float64Array.from(this.latencies),
      ...(this.job.timeline ? { doneAt: Float64Array.from(this.doneAt), callIndex: Uint8Array.from(this.callIndex) } : {}),
      errors: this.errors,
      errorsByCall: this.errorsByCall,
      errorSamples: this.errorSamples,
    };
  }
}

/** Call index picker: a repeating pattern following the weights (deterministic, evenly spread). */
function picker(job: JobSpec): (n: number) => number {
  const weights = job.weights ?? job.calls.map(() => 1);
  const pattern: number[] = [];
  const total = weights.reduce((a, b) => a + b, 0);
  const scale = 100 / total;
  const credit = weights.map(() => 0);
  for (let n = 0; n < 100; n++) {
    weights.forEach((w, k) => (credit[k]! += w * scale));
    let best = 0;
    credit.forEach((c, k) => (best = c > credit[best]! ? k : best));
    pattern.push(best);
    credit[best]! -= 100;
  }
  return (n) => pattern[n % pattern.length]!;
}

async function closedLoop(job: JobSpec, makers: CallMaker[], rec: Recorder): Promise<void> {
  const end = rec.measureFrom + job.durationMs;
  const pick = picker(job);
  let n = 0;
  const caller = async () => {
    while (now() < end) {
      const i = n++;
      const which = pick(i);
      const sent = now();
      // A call counts in the window it completes in (as the server's CPU over the window does).
      try {
        await makers[which]!.call(i);
        const done = now();
        if (done >= rec.measureFrom && done <= end) rec.ok(which, done - sent, done);
      } catch (err) {
        const done = now();
        if (done >= rec.measureFrom && done <= end) rec.fail(which, err);
      }
    }
  };
  await Promise.all(Array.from({ length: job.concurrency ?? 1 }, caller));
}

async function openLoop(job: JobSpec, makers: CallMaker[], rec: Recorder): Promise<void> {
  const end = rec.measureFrom + job.durationMs;
  const schedule = new OpenLoopSchedule(job.startAt, job.ratePerSecond!);
  const pick = picker(job);
  let inFlight = 0;
  const pending = new Set<Promise<void>>();
  const fire = (i: number, intended: number) => {
    const which = pick(i);
    const measured = intended >= rec.measureFrom;
    if (inFlight >= OPEN_LOOP_MAX_IN_FLIGHT) {
      if (measured) rec.fail(which, new Error(`more than ${OPEN_LOOP_MAX_IN_FLIGHT} calls in flight: not sent`));
      return;
    }
    inFlight++;
    const p = makers[which]!.call(i).then(
      () => {
        const done = now();
        if (measured) rec.ok(which, latencyFromIntended(intended, done), done);
      },
      (err: unknown) => {
        if (measured) rec.fail(which, err);
      },
    );
    pending.add(p);
    void p.finally(() => {
      inFlight--;
      pending.delete(p);
    });
  };
  for (;;) {
    const t = now();
    if (t >= end) break;
    const times = schedule.due(t);
    let i = schedule.taken - times.length;
    for (const intended of times) fire(i++, intended);
    const wait = schedule.waitMs(now());
    await (wait > 0 ? sleepUntil(now() + wait) : new Promise<void>((resolve) => setImmediate(resolve)));
  }
  const drained = Promise.all(pending);
  const timedOut = await Promise.race([drained.then(() => false), sleepUntil(now() + DRAIN_MS).then(() => true)]);
  if (timedOut) for (let k = 0; k < pending.size; k++) rec.fail(0, new Error(`no answer within ${DRAIN_MS} ms after the window`));
}

let prepared: { job: JobSpec; makers: CallMaker[] } | undefined;

async function go(startAt: number): Promise<WorkerResult> {
  const { makers } = prepared!;
  const job = { ...prepared!.job, startAt };
  try {
    await sleepUntil(startAt);
    const rec = new Recorder(job, startAt + job.warmupMs);
    await (job.mode === 'closed' ? closedLoop(job, makers, rec) : openLoop(job, makers, rec));
    return rec.result();
  } finally {
    makers.forEach((m) => m.close());
    prepared = undefined;
  }
}

/** `prepare` (connections, token sources) answers `prepared`; then `go` runs from `startAt` and answers the result. */
parentPort!.on('message', (message: { prepare?: { job: JobSpec; seed: number }; go?: number }) => {
  if (message.prepare) {
    const { job, seed } = message.prepare;
    prepared = { job, makers: job.calls.map((spec) => callMaker(spec, job.channels, seed)) };
    parentPort!.postMessage({ prepared: true });
    return;
  }
  go(message.go!).then(
    (result) => {
      const transfer = [result.latencies.buffer, ...(result.doneAt ? [result.doneAt.buffer, result.callIndex!.buffer] : [])];
      parentPort!.postMessage({ result }, transfer as ArrayBuffer[]);
    },
    (err: unknown) => parentPort!.postMessage({ error: (err as Error).stack ?? String(err) }),
  );
});
