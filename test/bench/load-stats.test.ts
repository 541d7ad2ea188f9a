/** The load harness's statistics (bench/load/stats.ts): percentiles, and the open loop's intended-time accounting. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OpenLoopSchedule, latencyFromIntended, median, percentile, summarizeLatencies } from '../../bench/load/stats.js';
import { merge } from '../../bench/load/pool.js';

describe('percentiles', () => {
  it('are nearest-rank: 1..100 gives p50 = 50, p90 = 90, p99 = 99, p99.9 = 100', () => {
    const values = Array.from({ length: 100 }, (_, i) => 100 - i); // unsorted on purpose
    const s = summarizeLatencies(values);
    assert.deepEqual([s.calls, s.p50_ms, s.p90_ms, s.p99_ms, s.p999_ms, s.max_ms], [100, 50, 90, 99, 100, 100]);
  });

  it('a single slow call in a thousand is the p99.9, not the p99', () => {
    const values = [...Array.from({ length: 999 }, () => 1), 500];
    const s = summarizeLatencies(values);
    assert.equal(s.p99_ms, 1);
    assert.equal(s.p999_ms, 1);
    assert.equal(summarizeLatencies([...values, 500]).p999_ms, 500);
  });

  it('of nothing is 0, of one value is that value', () => {
    assert.equal(percentile([], 99), 0);
    assert.equal(percentile([7], 50), 7);
    assert.equal(percentile([7], 99.9), 7);
    assert.equal(median([3, 1, 2, 10]), 2.5);
  });

  it('merged worker results count calls over the window and CPU per call', () => {
    const a = { latencies: Float64Array.from([1, 2, 3]), errors: 1, errorsByCall: [1], errorSamples: ['x'] };
    const b = { latencies: Float64Array.from([4]), errors: 0, errorsByCall: [0], errorSamples: [] };
    const figures = merge([a, b], 2000, 400_000);
    assert.equal(figures.calls, 4);
    assert.equal(figures.calls_per_second, 2);
    assert.equal(figures.errors, 1);
    assert.equal(figures.server_cpu_us_per_call, 100_000);
    assert.equal(figures.server_cores, 0.2);
  });
});

describe('the open loop schedule', () => {
  it('fixes each call its intended time at the arrival rate, whatever the sender did', () => {
    const schedule = new OpenLoopSchedule(1000, 1000); // one call per ms from t = 1000
    assert.deepEqual(schedule.due(1000), [1000]);
    assert.deepEqual(schedule.due(1002.5), [1001, 1002]);
    assert.equal(schedule.waitMs(1002.5), 0.5);
    assert.equal(schedule.taken, 3);
  });

  it('a stalled sender sends the backlog at once, and each latency counts from its intended time (no coordinated omission)', () => {
    const schedule = new OpenLoopSchedule(0, 100); // every 10 ms
    const latencies: number[] = [];
    // Calls answered in 1 ms, then the sender stalls from t = 20 to t = 520.
    for (const t of schedule.due(20)) latencies.push(latencyFromIntended(t, t + 1));
    const backlog = schedule.due(520);
    assert.equal(backlog.length, 50); // intended at 30, 40, ... 520
    for (const t of backlog) latencies.push(latencyFromIntended(t, 521));
    // Measured from the actual send time every call would look like 1 ms; from the intended time the stall shows.
    const s = summarizeLatencies(latencies);
    assert.equal(s.p50_ms, 231); // 53 calls: four of 1 ms, then 11, 21, … 491
    assert.equal(s.max_ms, 491);
    assert.equal(Math.min(...latencies), 1);
  });

  it('refuses a rate that is not positive', () => {
    assert.throws(() => new OpenLoopSchedule(0, 0), /positive/);
  });
});
