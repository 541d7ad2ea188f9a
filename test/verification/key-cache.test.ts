// The key cache through verifyToken, against the loopback Entra server: one fetch for many callers, a cooldown
// on unknown kids, last-good keys through an outage up to max_stale, recovery, fetch timeouts, removed keys.
// Time is an injected clock; the network is real loopback HTTP except where a fetch must hang.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { validateConfig } from '../../src/config/load.js';
import type { Fetch } from '../../src/verification/fetch-json.js';
import type { VerificationObserver } from '../../src/verification/observer.js';
import { createVerificationContext } from '../../src/verification/verifier.js';
import { verifyToken, type VerificationContext } from '../../src/verification/verify-token.js';
import { startEntraServer, type EntraServer, type MintOptions } from '../helpers/entra-server.js';
import { reasonOf } from './outcome.js';

const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const AUD = 'api://gatehouse-test';
const KEYS_PATH = `/${TENANT}/discovery/v2.0/keys`;
const DISCOVERY_PATH = `/${TENANT}/v2.0/.well-known/openid-configuration`;
const T0 = 1_790_000_000_000; // the injected clock's start, ms
const MINUTE = 60_000;

function countingObserver() {
  const counts = { hit: 0, miss: 0, success: 0, failure: 0, suppressed: 0, failureSeconds: [] as number[] };
  const observer: VerificationObserver = {
    keyLookup: (_issuer, result) => void (counts[result] += 1),
    keyFetch: (_issuer, outcome, seconds) => {
      counts[outcome] += 1;
      if (outcome === 'failure') counts.failureSeconds.push(seconds);
    },
    refetchSuppressed: () => void (counts.suppressed += 1),
    keySetState: () => {},
  };
  return { observer, counts };
}

describe('key cache', () => {
  let entra: EntraServer;
  const contexts: VerificationContext[] = [];

  before(async () => {
    entra = await startEntraServer();
  });
  after(async () => {
    for (const ctx of contexts) ctx.keyCache.stop();
    await entra.close();
  });

  /** A v2-only single-tenant context on a movable clock; `keys` overrides the key settings. */
  function setup(keys: Record<string, unknown> = {}, fetch?: Fetch) {
    let now = T0;
    const { observer, counts } = countingObserver();
    const config = validateConfig({
      issuers: [{ id: 'entra', type: 'entra', authority: entra.base, tenant: TENANT, token_versions: [2], audiences: [AUD] }],
      keys: { refresh_interval: '1h', max_stale: '3h', unknown_kid_cooldown: '30s', ...keys },
    });
    const ctx = createVerificationContext(config, { clock: () => now, observer, ...(fetch ? { fetch } : {}) });
    contexts.push(ctx);
    return { ctx, counts, advance: (ms: number) => void (now += ms) };
  }
  // Valid for five hours from T0, longer than any clock advance below.
  const mint = (opts: Partial<MintOptions> = {}) =>
    entra.mint({ version: 2, tid: TENANT, aud: AUD, now: T0 / 1000, expiresIn: 5 * 3600, ...opts });

  it('single flight: 100 concurrent verifications on a cold cache cause one discovery and one JWKS fetch', async () => {
    const { ctx, counts } = setup();
    const tokens = await Promise.all(Array.from({ length: 100 }, (_, i) => mint({ claims: { sub: `user-${i}` } })));
    const keysBefore = entra.requests(KEYS_PATH);
    const discoveryBefore = entra.requests(DISCOVERY_PATH);
    const outcomes = await Promise.all(tokens.map((t) => reasonOf(verifyToken(ctx, t))));
    assert.deepEqual(new Set(outcomes), new Set(['VALID']));
    assert.equal(entra.requests(KEYS_PATH) - keysBefore, 1);
    assert.equal(entra.requests(DISCOVERY_PATH) - discoveryBefore, 1);
    assert.equal(counts.success, 1);
  });

  it('a held key: each verification is one hit and no fetch; a bad signature under it, one refetch and one more check', async () => {
    const { ctx, counts, advance } = setup();
    const token = await mint();
    // Cold: routing the issuer loads its discovery and keys first, and then the key is held.
    assert.equal(await reasonOf(verifyToken(ctx, token)), 'VALID');
    assert.deepEqual([counts.hit, counts.miss, counts.success], [1, 0, 1]);
    for (let i = 0; i < 5; i++) assert.equal(await reasonOf(verifyToken(ctx, token)), 'VALID');
    assert.deepEqual([counts.hit, counts.miss, counts.success], [6, 0, 1]);
    // A forged signature under the held kid: the provider may have replaced that key, so one refetch, then refused.
    const [h, p, s] = token.split('.') as [string, string, string];
    const forged = `${h}.${p}.${s.slice(0, -4)}${s.slice(-4) === 'AAAA' ? 'BBBB' : 'AAAA'}`;
    advance(MINUTE); // past the unknown-kid cooldown of the first fetch
    const keysBefore = entra.requests(KEYS_PATH);
    assert.equal(await reasonOf(verifyToken(ctx, forged)), 'SIGNATURE_INVALID');
    assert.equal(entra.requests(KEYS_PATH) - keysBefore, 1);
    assert.equal(counts.hit, 7);
    assert.equal(await reasonOf(verifyToken(ctx, forged)), 'SIGNATURE_INVALID'); // within the cooldown: no refetch
    assert.equal(entra.requests(KEYS_PATH) - keysBefore, 1);
  });

  it('cooldown: 50 unknown kids cause at most one refetch per cooldown', async () => {
    const { ctx, counts, advance } = setup();
    assert.equal(await reasonOf(verifyToken(ctx, await mint())), 'VALID');
    const flood = await Promise.all(Array.from({ length: 50 }, (_, i) => mint({ extraHeader: { kid: `unknown-${i}` } })));
    const keysBefore = entra.requests(KEYS_PATH);

    // Right after the first fetch: every unknown kid is refused without a fetch.
    for (const token of flood) assert.equal(await reasonOf(verifyToken(ctx, token)), 'KEY_NOT_FOUND');
    assert.equal(entra.requests(KEYS_PATH) - keysBefore, 0);
    assert.equal(counts.suppressed, 50);

    // Once the cooldown has passed: the first refetches, the other 49 are suppressed.
    advance(31_000);
    for (const token of flood) assert.equal(await reasonOf(verifyToken(ctx, token)), 'KEY_NOT_FOUND');
    assert.equal(entra.requests(KEYS_PATH) - keysBefore, 1);
    assert.equal(counts.suppressed, 50 + 49);

    // The same flood all at once after the next cooldown: one refetch, which every caller joins.
    advance(31_000);
    const outcomes = await Promise.all(flood.map((t) => reasonOf(verifyToken(ctx, t))));
    assert.deepEqual(new Set(outcomes), new Set(['KEY_NOT_FOUND']));
    assert.equal(entra.requests(KEYS_PATH) - keysBefore, 2);
    assert.equal(await reasonOf(verifyToken(ctx, await mint())), 'VALID', 'known keys still served');
  });

  it('last-good keys: serve through an outage while within max_stale, then KEYS_UNAVAILABLE', async () => {
    const { ctx, counts, advance } = setup();
    const token = await mint();
    assert.equal(await reasonOf(verifyToken(ctx, token)), 'VALID');
    entra.setDown(true);
    try {
      advance(90 * MINUTE); // past refresh_interval (1h), within max_stale (3h)
      assert.equal(await ctx.keyCache.refresh('entra'), false, 'the refresh fails');
      assert.equal(counts.failure, 1);
      assert.equal(await reasonOf(verifyToken(ctx, token)), 'VALID');
      assert.deepEqual(
        ctx.keyCache.status().map((s) => [s.usable, s.stale]),
        [[true, true]],
      );
      advance(89 * MINUTE); // 2h59m since the last good fetch
      assert.equal(await reasonOf(verifyToken(ctx, token)), 'VALID');
      advance(2 * MINUTE); // 3h01m: past max_stale
      assert.equal(await reasonOf(verifyToken(ctx, token)), 'KEYS_UNAVAILABLE');
      assert.equal(await reasonOf(verifyToken(ctx, token)), 'KEYS_UNAVAILABLE', 'and again within the cooldown');
    } finally {
      entra.setDown(false);
    }
  });

  it('an unknown kid while the provider is down is KEYS_UNAVAILABLE (retry later), not KEY_NOT_FOUND', async () => {
    const { ctx, advance } = setup();
    assert.equal(await reasonOf(verifyToken(ctx, await mint())), 'VALID');
    const rotated = await mint({ key: 'unlisted' }); // signed by a key the provider has not published to us yet
    assert.equal(await reasonOf(verifyToken(ctx, rotated)), 'KEY_NOT_FOUND', 'provider up: the key is simply unknown');
    entra.setDown(true);
    try {
      advance(MINUTE); // past the cooldown, so the unknown kid triggers a refetch, which fails
      assert.equal(await reasonOf(verifyToken(ctx, rotated)), 'KEYS_UNAVAILABLE');
      assert.equal(await reasonOf(verifyToken(ctx, await mint())), 'VALID', 'known keys still serve');
    } finally {
      entra.setDown(false);
    }
  });

  it('down from the start: KEYS_UNAVAILABLE, and tokens verify once it is back and the cooldown has passed', async () => {
    entra.setDown(true);
    const { ctx, counts, advance } = setup();
    const token = await mint();
    try {
      const discoveryBefore = entra.requests(DISCOVERY_PATH);
      assert.equal(await reasonOf(verifyToken(ctx, token)), 'KEYS_UNAVAILABLE');
      assert.equal(await reasonOf(verifyToken(ctx, token)), 'KEYS_UNAVAILABLE');
      assert.equal(entra.requests(DISCOVERY_PATH) - discoveryBefore, 1, 'one attempt per cooldown');
      assert.equal(counts.failure, 1);
      entra.setDown(false);
      assert.equal(await reasonOf(verifyToken(ctx, token)), 'KEYS_UNAVAILABLE', 'still within the cooldown');
      advance(31_000);
      assert.equal(await reasonOf(verifyToken(ctx, token)), 'VALID');
      assert.equal(counts.success, 1);
    } finally {
      entra.setDown(false);
    }
  });

  it('an unknown kid does not wait out a slow refetch: KEYS_UNAVAILABLE (retry) before the fetch gives up', async () => {
    let hang = false;
    let abortedFetches = 0;
    const slowWhenAsked: Fetch = (input, init) =>
      hang
        ? new Promise<Response>((_resolve, reject) =>
            init?.signal?.addEventListener('abort', () => {
              abortedFetches += 1;
              reject(init.signal!.reason);
            }),
          )
        : fetch(input, init);
    const { ctx, advance } = setup({ fetch_timeout: '5s' }, slowWhenAsked);
    assert.equal(await reasonOf(verifyToken(ctx, await mint())), 'VALID');
    hang = true;
    advance(MINUTE); // past the cooldown: the unknown kid starts a refetch, which hangs
    assert.equal(await reasonOf(verifyToken(ctx, await mint({ key: 'unlisted' }))), 'KEYS_UNAVAILABLE');
    assert.equal(abortedFetches, 0, 'answered while the refetch was still running');
    assert.equal(await reasonOf(verifyToken(ctx, await mint())), 'VALID', 'known keys answer at once meanwhile');
  });

  it('background refresh: keys are refetched every refresh_interval without any token asking', async () => {
    const { ctx } = setup({ refresh_interval: '1s', max_stale: '1h' }); // the shortest interval allowed
    const before = entra.requests(KEYS_PATH);
    await ctx.keyCache.start();
    for (let waited = 0; entra.requests(KEYS_PATH) - before < 3 && waited < 10_000; waited += 50) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    ctx.keyCache.stop();
    assert.ok(entra.requests(KEYS_PATH) - before >= 3, `refetched ${entra.requests(KEYS_PATH) - before} times`);
    const stopped = entra.requests(KEYS_PATH);
    await new Promise((resolve) => setTimeout(resolve, 400));
    assert.equal(entra.requests(KEYS_PATH), stopped, 'stop() ends the refreshes');
  });

  it('keys.max_keys counts keys: an Entra issuer with v1 and v2 key sets (21 keys) fits in 24', async () => {
    const config = validateConfig({
      issuers: [{ id: 'entra', type: 'entra', authority: entra.base, tenant: TENANT, token_versions: [1, 2], audiences: [AUD] }],
      keys: { max_keys: 24 },
    });
    const ctx = createVerificationContext(config, { clock: () => T0 });
    contexts.push(ctx);
    await ctx.keyCache.start();
    for (const version of [1, 2, 1] as const) {
      assert.equal(await reasonOf(verifyToken(ctx, await mint({ version }))), 'VALID', `v${version}`);
    }
  });

  it('fetch timeout: a provider that never answers fails within keys.fetch_timeout', async () => {
    const hanging: Fetch = (_input, init) =>
      new Promise<Response>((_resolve, reject) => {
        const signal = init?.signal;
        if (!signal) return; // without a signal it would hang forever: the timeout below would catch that
        signal.addEventListener('abort', () => reject(signal.reason), { once: true });
      });
    const { ctx, counts } = setup({ fetch_timeout: '100ms' }, hanging);
    const started = performance.now();
    assert.equal(await reasonOf(verifyToken(ctx, await mint())), 'KEYS_UNAVAILABLE');
    const elapsed = performance.now() - started;
    assert.ok(elapsed >= 90 && elapsed < 1000, `gave up after ${elapsed.toFixed(0)} ms`);
    assert.equal(counts.failure, 1);
    assert.ok(counts.failureSeconds[0]! >= 0.09);
    const [status] = ctx.keyCache.status();
    assert.equal(status?.usable, false);
    assert.ok(status?.lastError);
  });

  it('background refresh: an interval longer than a timer can hold (30 days) does not become a fetch loop', async () => {
    const { ctx, counts } = setup({ refresh_interval: '30d', max_stale: '60d' });
    const before = entra.requests(KEYS_PATH);
    await ctx.keyCache.start();
    await new Promise((resolve) => setTimeout(resolve, 100));
    ctx.keyCache.stop();
    assert.equal(entra.requests(KEYS_PATH) - before, 1);
    assert.equal(counts.success, 1);
  });

  it('keys removed from the JWKS are no longer accepted after the next fetch', async () => {
    const { ctx, advance } = setup();
    const oldToken = await mint();
    assert.equal(await reasonOf(verifyToken(ctx, oldToken)), 'VALID');
    entra.setKeyPublished('tenant', false);
    entra.setKeyPublished('unlisted', true);
    try {
      advance(31_000);
      assert.equal(await reasonOf(verifyToken(ctx, await mint({ key: 'unlisted' }))), 'VALID', 'the new key is fetched');
      assert.equal(await reasonOf(verifyToken(ctx, oldToken)), 'KEY_NOT_FOUND');
      advance(31_000);
      assert.equal(await reasonOf(verifyToken(ctx, oldToken)), 'KEY_NOT_FOUND', 'also after another refetch');
    } finally {
      entra.setKeyPublished('tenant', true);
      entra.setKeyPublished('unlisted', false);
    }
  });
});
