import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CRASH_WINDOW_MS, RESTART_BASE_MS, RESTART_MAX_MS, RestartBackoff } from '../../src/cluster/restart-backoff.js';

describe('RestartBackoff: a crash loop does not spin', () => {
  it('a lone crash restarts after the base delay; each further crash within the window doubles it, up to the ceiling', () => {
    let now = 0;
    const backoff = new RestartBackoff(() => now);
    const delays: number[] = [];
    for (let i = 0; i < 12; i++) {
      delays.push(backoff.crashed());
      now += 1000;
    }
    assert.deepEqual(delays.slice(0, 4), [RESTART_BASE_MS, RESTART_BASE_MS * 2, RESTART_BASE_MS * 4, RESTART_BASE_MS * 8]);
    assert.equal(delays.at(-1), RESTART_MAX_MS);
    assert.ok(delays.every((d, i) => i === 0 || d >= delays[i - 1]!));
  });

  it('crashes older than the window are forgotten: a worker that crashed long ago restarts at once again', () => {
    let now = 0;
    const backoff = new RestartBackoff(() => now);
    for (let i = 0; i < 5; i++) backoff.crashed();
    now += CRASH_WINDOW_MS + 1;
    assert.equal(backoff.crashed(), RESTART_BASE_MS);
  });
});
