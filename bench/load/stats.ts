/**
 * The load harness's arithmetic, kept pure so test/bench-stats.test.ts can check it: percentiles over latency
 * samples, and the open loop's schedule, where every call has an intended send time fixed in advance and its latency
 * is counted from that time (a stalled sender or server then shows up in the figures instead of being hidden:
 * no coordinated omission).
 */

export interface LatencySummary {
  readonly calls: number;
  readonly p50_ms: number;
  readonly p90_ms: number;
  readonly p99_ms: number;
  readonly p999_ms: number;
  readonly max_ms: number;
}

/** The nearest-rank percentile (`p` in 0..100) of ascending `sorted`: the smallest value with at least p % at or below it. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) return 0;
  // Less a hair: 99.9 / 100 * 1000 is 999.0000000000001 in floating point, and must rank 999.
  const rank = Math.ceil((p / 100) * n - 1e-9);
  return sorted[Math.min(n - 1, Math.max(0, rank - 1))]!;
}

const round2 = (x: number) => Math.round(x * 100) / 100;

/** p50/p90/p99/p99.9 of latencies in milliseconds (sorts a copy). */
export function summarizeLatencies(latenciesMs: ArrayLike<number>): LatencySummary {
  const sorted = Float64Array.from(latenciesMs).sort();
  return {
    calls: sorted.length,
    p50_ms: round2(percentile(sorted, 50)),
    p90_ms: round2(percentile(sorted, 90)),
    p99_ms: round2(percentile(sorted, 99)),
    p999_ms: round2(percentile(sorted, 99.9)),
    max_ms: round2(sorted.length ? sorted[sorted.length - 1]! : 0),
  };
}

/**
 * An open loop's schedule: call i is due at `startMs + i * 1000 / ratePerSecond`, whatever happened to the calls
 * before it. A sender that wakes late sends every call now due at once, each keeping its own intended time.
 */
export class OpenLoopSchedule {
  readonly #intervalMs: number;
  #next = 0;

  constructor(
    readonly startMs: number,
    ratePerSecond: number,
  ) {
    if (!(ratePerSecond > 0)) throw new Error('the arrival rate must be positive');
    this.#intervalMs = 1000 / ratePerSecond;
  }

  /** How many calls have been taken so far. */
  get taken(): number {
    return this.#next;
  }

  /** The intended send time of call `i`. */
  intendedAt(i: number): number {
    return this.startMs + i * this.#intervalMs;
  }

  /** The intended times of the calls due by `nowMs` and not yet taken, in order (they are then taken). */
  due(nowMs: number): number[] {
    const times: number[] = [];
    while (this.intendedAt(this.#next) <= nowMs) times.push(this.intendedAt(this.#next++));
    return times;
  }

  /** Milliseconds from `nowMs` until the next call is due (0 when one is due already). */
  waitMs(nowMs: number): number {
    return Math.max(0, this.intendedAt(this.#next) - nowMs);
  }
}

/** An open-loop call's latency: from when it should have been sent, not from when it was. */
export function latencyFromIntended(intendedMs: number, doneMs: number): number {
  return doneMs - intendedMs;
}

/** `a / b` rounded to 3 places (0 when b is 0). */
export function ratio(a: number, b: number): number {
  return b === 0 ? 0 : Math.round((a / b) * 1000) / 1000;
}

/** The median of a few numbers (the A/B rounds of one side). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((x, y) => x - y);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
