import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DecisionCache, hashToken, keyFor } from '../../src/decisions/decision-cache.js';

const T0 = 1_700_000_000_000;
const TOKEN = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl';
const ACTION = '/orders.v1.Orders/GetOrder';

/** A cache whose clock the test moves by hand. */
function fakeClockCache(options: { maxEntries?: number; maxTtlMs?: number; maxBytes?: number } = {}) {
  const time = { now: T0 };
  const cache = new DecisionCache<string>({ maxEntries: 100, maxTtlMs: 60_000, ...options, clock: () => time.now });
  return { cache, time };
}

describe('DecisionCache', () => {
  it('returns what was set for the same token and action', () => {
    const { cache } = fakeClockCache();
    cache.set(TOKEN, ACTION, 'allow', T0 + 3_600_000);
    assert.equal(cache.get(TOKEN, ACTION), 'allow');
    assert.equal(cache.get(TOKEN, '/orders.v1.Orders/DeleteOrder'), undefined);
    assert.equal(cache.size, 1);
  });

  it('misses for a token whose payload changed but whose signature did not', () => {
    const { cache } = fakeClockCache();
    cache.set(TOKEN, ACTION, 'allow', T0 + 3_600_000);
    const [header, , signature] = TOKEN.split('.');
    const tampered = `${header}.eyJzdWIiOiJtYWxsb3J5In0.${signature}`;
    assert.equal(cache.get(tampered, ACTION), undefined);
  });

  it('expires an entry at the token exp, even when maxTtl is longer', () => {
    const { cache, time } = fakeClockCache({ maxTtlMs: 3_600_000 });
    cache.set(TOKEN, ACTION, 'allow', T0 + 10_000);
    time.now = T0 + 9_999;
    assert.equal(cache.get(TOKEN, ACTION), 'allow');
    time.now = T0 + 10_000;
    assert.equal(cache.get(TOKEN, ACTION), undefined);
    assert.equal(cache.size, 0);
  });

  it('expires an entry after maxTtl when the token lives longer', () => {
    const { cache, time } = fakeClockCache({ maxTtlMs: 5_000 });
    cache.set(TOKEN, ACTION, 'allow', T0 + 3_600_000);
    time.now = T0 + 4_999;
    assert.equal(cache.get(TOKEN, ACTION), 'allow');
    time.now = T0 + 5_000;
    assert.equal(cache.get(TOKEN, ACTION), undefined);
  });

  it('works with a clock that starts at 0', () => {
    const { cache, time } = fakeClockCache();
    time.now = 0;
    cache.set(TOKEN, ACTION, 'allow', 1_000);
    assert.equal(cache.get(TOKEN, ACTION), 'allow');
    time.now = 1_000;
    assert.equal(cache.get(TOKEN, ACTION), undefined);
  });

  it('caches nothing for an expired token', () => {
    const { cache } = fakeClockCache();
    cache.set(TOKEN, ACTION, 'allow', T0);
    cache.set(TOKEN, 'b', 'allow', T0 - 1);
    cache.set(TOKEN, 'c', 'allow', Number.NaN);
    assert.equal(cache.size, 0);
  });

  it('caches nothing when maxTtl or maxEntries is 0', () => {
    for (const options of [{ maxTtlMs: 0 }, { maxEntries: 0 }]) {
      const { cache } = fakeClockCache(options);
      cache.set(TOKEN, ACTION, 'allow', T0 + 3_600_000);
      assert.equal(cache.get(TOKEN, ACTION), undefined);
      assert.equal(cache.size, 0);
    }
  });

  it('stays within maxEntries, evicting the least recently used', () => {
    const { cache } = fakeClockCache({ maxEntries: 3 });
    for (let i = 0; i < 10; i++) cache.set(TOKEN, `a${i}`, `v${i}`, T0 + 60_000);
    assert.equal(cache.size, 3);
    assert.equal(cache.get(TOKEN, 'a0'), undefined);
    assert.equal(cache.get(TOKEN, 'a9'), 'v9');
  });

  it('forgets everything on clear()', () => {
    const { cache } = fakeClockCache();
    cache.set(TOKEN, ACTION, 'allow', T0 + 60_000);
    cache.clear();
    assert.equal(cache.size, 0);
    assert.equal(cache.get(TOKEN, ACTION), undefined);
  });

  it('shares entries between token and precomputed-key calls', () => {
    const { cache } = fakeClockCache();
    const hash = hashToken(TOKEN);
    cache.setByKey(keyFor(hash, ACTION), 'allow', T0 + 60_000);
    assert.equal(cache.get(TOKEN, ACTION), 'allow');
    cache.set(TOKEN, 'other', 'deny', T0 + 60_000);
    assert.equal(cache.getByKey(keyFor(hash, 'other')), 'deny');
  });

  it('hashes the whole token and never keeps it', () => {
    assert.notEqual(hashToken(TOKEN), hashToken(`${TOKEN}x`));
    assert.equal(hashToken(TOKEN).includes(TOKEN), false);
    assert.match(hashToken(TOKEN), /^[A-Za-z0-9_-]{43}$/);
  });

  it('bounds memory by the estimated bytes of its entries, not only their count', () => {
    const { cache } = fakeClockCache({ maxEntries: 1000, maxBytes: 10_000 });
    for (let i = 0; i < 50; i++) cache.setByKey(keyFor(hashToken(`token-${i}`), ACTION), 'allow', T0 + 60_000, 3_000);
    assert.ok(cache.bytes <= 10_000, `holds ${cache.bytes} bytes`);
    assert.equal(cache.size, 3);
    assert.equal(cache.getByKey(keyFor(hashToken('token-49'), ACTION)), 'allow', 'the most recent entries stay');
    assert.equal(cache.getByKey(keyFor(hashToken('token-0'), ACTION)), undefined);
    cache.setByKey(keyFor(hashToken('huge'), ACTION), 'allow', T0 + 60_000, 20_000);
    assert.equal(cache.getByKey(keyFor(hashToken('huge'), ACTION)), undefined, 'an entry over the whole bound is not cached');
  });

  it('refuses nonsense options', () => {
    assert.throws(() => new DecisionCache({ maxEntries: -1, maxTtlMs: 1 }), /maxEntries/);
    assert.throws(() => new DecisionCache({ maxEntries: 1.5, maxTtlMs: 1 }), /maxEntries/);
    assert.throws(() => new DecisionCache({ maxEntries: 1, maxTtlMs: Number.POSITIVE_INFINITY }), /maxTtlMs/);
  });
});
