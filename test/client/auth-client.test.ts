// AuthClient against a real gatehouse: decision values, the local cache honouring cache_for (gatehouse's
// audit lines count the round trips) and bounded in bytes, deadlines, which failures count as "never reached",
// a closed client, metrics in a registry the caller owns, option checks.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { register as globalRegistry, Registry } from 'prom-client';
import { createAuthClient, type AuthClient } from '../../src/client/index.js';
import { refusedAddress, startAnsweringUnavailable, startCuttableProxy, startHangUpListener } from './fixtures/broken-gatehouse.js';
import { startSilentGatehouse } from './fixtures/silent-gatehouse.js';
import { startWorld, type World } from './fixtures/world.js';

const SAY = '/test.v1.Echo/Say';
const SHOUT = '/test.v1.Echo/Shout';

describe('AuthClient', () => {
  let world: World;
  let reader: string;
  const clients: AuthClient[] = [];
  const client = (options: Partial<Parameters<typeof createAuthClient>[0]> = {}) => {
    const c = createAuthClient({ address: world.gatehouseAddress, ...options });
    clients.push(c);
    return c;
  };
  const roundTrips = (action: string) => world.audits().filter((a) => a.action === action).length;

  before(async () => {
    world = await startWorld();
    reader = await world.token('reader');
  });
  after(async () => {
    for (const c of clients) c.close();
    await world.close();
  });

  it('verify: a principal for a good token, a coded value for a bad one', async () => {
    const gate = client();
    const good = await gate.verify(reader);
    assert.ok(good.valid);
    assert.equal(good.principal.subject, 'reader');
    assert.deepEqual(good.principal.roles, ['echo.read']);
    assert.ok(good.principal.expiresAt > Date.now() / 1000);
    const bad = await gate.verify('not.a.jwt');
    assert.deepEqual(bad, { valid: false, reason: 'TOKEN_MALFORMED', kind: 'token', message: bad.valid ? '' : bad.message });
  });

  it('authorize: allowed and denied are values with rule, reason, kind and cache_for', async () => {
    const gate = client({ cache: false });
    const allowed = await gate.authorize(reader, SAY);
    assert.ok(allowed.allowed);
    assert.equal(allowed.rule, 'echo-read');
    assert.equal(allowed.principal?.subject, 'reader');
    assert.ok(allowed.cacheForMs > 50_000 && allowed.cacheForMs <= 60_000, `cache_for ${allowed.cacheForMs}`);
    const denied = await gate.authorize(reader, SHOUT);
    assert.equal(denied.allowed, false);
    assert.ok(!denied.allowed);
    assert.deepEqual([denied.reason, denied.kind, denied.rule], ['MISSING_ROLE', 'policy', 'echo-admin']);
    const noToken = await gate.authorize('', SAY);
    assert.ok(!noToken.allowed);
    assert.deepEqual([noToken.reason, noToken.kind, noToken.cacheForMs], ['TOKEN_MISSING', 'token', 0]);
  });

  it('caches decisions for cache_for, then asks again; denials too; token refusals never', async () => {
    let now = Date.now();
    const gate = client({ clock: () => now });
    const say = roundTrips(SAY);
    const shout = roundTrips(SHOUT);
    const first = await gate.authorize(reader, SAY);
    const second = await gate.authorize(reader, SAY);
    assert.deepEqual([first.cached, second.cached, second.allowed], [false, true, true]);
    assert.equal((await gate.authorize(reader, SHOUT)).allowed, false);
    assert.equal((await gate.authorize(reader, SHOUT)).cached, true);
    assert.equal(roundTrips(SAY) - say, 1);
    assert.equal(roundTrips(SHOUT) - shout, 1);

    now += first.cacheForMs + 1;
    assert.equal((await gate.authorize(reader, SAY)).cached, false, 'past cache_for: asked again');
    assert.equal(roundTrips(SAY) - say, 2);

    const missing = roundTrips(SAY);
    await gate.authorize('', SAY);
    await gate.authorize('', SAY);
    assert.equal(roundTrips(SAY) - missing, 2, 'cache_for 0 is not cached');
  });

  it('the cache is bounded and keyed by the whole token', async () => {
    const gate = client({ cache: { maxEntries: 2 } });
    const admin = await world.token('admin');
    const before = world.audits().length;
    await gate.authorize(reader, SAY);
    await gate.authorize(admin, SAY);
    await gate.authorize(admin, SHOUT); // evicts (reader, SAY)
    assert.equal((await gate.authorize(reader, SAY)).cached, false);
    assert.equal(world.audits().length - before, 4);
    const other = await world.token('reader'); // same client, same claims, another token
    assert.equal((await gate.authorize(other, SAY)).cached, false);
    // Only admin asked SHOUT: tokens taking turns (each call hashes only a token unlike the one before) keep apart.
    const roomy = client();
    await roomy.authorize(admin, SHOUT);
    await roomy.authorize(reader, SAY);
    for (const [token, asked] of [
      [admin, true],
      [other, false],
      [other, false],
      [admin, true],
      [admin, true],
      [reader, false],
    ] as const) {
      assert.equal(roomy.cached!(token, SHOUT) !== undefined, asked);
    }
    // A JavaScript caller's Buffer is hashed on every call: refilled, it is another token.
    const bytes = Buffer.from(admin);
    assert.equal((await roomy.authorize(bytes as never, SHOUT)).allowed, true);
    bytes.fill('x');
    assert.deepEqual(await roomy.authorize(bytes as never, SHOUT).then((d) => [d.allowed, d.cached]), [false, false]);
  });

  it('the cache is bounded in estimated bytes: many distinct tokens stay under maxBytes, recent ones still hit', async () => {
    const tokens = await Promise.all(Array.from({ length: 12 }, () => world.token('reader')));
    const maxBytes = 3 * (2048 + 3 * tokens[0]!.length + 1024); // room for about three tokens
    const gate = client({ cache: { maxBytes } });
    for (const token of tokens) {
      await gate.authorize(token, SAY);
      assert.ok(gate.cacheSize().bytes <= maxBytes, `${gate.cacheSize().bytes} estimated bytes`);
    }
    const { tokens: kept, decisions } = gate.cacheSize();
    assert.ok(kept >= 2 && kept <= 3 && decisions === kept, `kept ${kept} tokens`);
    const before = roundTrips(SAY);
    assert.equal((await gate.authorize(tokens.at(-1)!, SAY)).cached, true);
    assert.equal((await gate.authorize(tokens.at(-kept)!, SAY)).cached, true);
    assert.equal((await gate.authorize(tokens[0]!, SAY)).cached, false);
    assert.equal(roundTrips(SAY) - before, 1);
  });

  it('one principal object per token, shared by its decisions, cached or fresh', async () => {
    const gate = client();
    const admin = await world.token('admin');
    const [say, shout] = await Promise.all([gate.authorize(admin, SAY), gate.authorize(admin, SHOUT)]);
    assert.ok(say.principal && say.allowed && shout.allowed);
    assert.equal(shout.principal, say.principal);
    assert.equal((await gate.authorize(admin, SAY)).principal, say.principal);
    assert.equal(Object.isFrozen(say.principal), true);
    assert.equal(gate.cacheSize().tokens, 1);
  });

  it('a call past the deadline fails as ERR_GATEHOUSE_TIMEOUT (it reached gatehouse), in about the deadline', async () => {
    const silent = await startSilentGatehouse();
    try {
      const gate = client({ address: silent.address, deadlineMs: 150 });
      const started = Date.now();
      await assert.rejects(gate.authorize(reader, SAY), { code: 'ERR_GATEHOUSE_TIMEOUT', grpcCode: 4 });
      assert.ok(Date.now() - started < 1000);
      assert.equal(silent.calls(), 1);
      await assert.rejects(gate.verify(reader), { code: 'ERR_GATEHOUSE_TIMEOUT' });
    } finally {
      silent.close();
    }
  });

  it('ERR_GATEHOUSE_UNREACHABLE only when no connection to gatehouse existed during the call', async () => {
    const hangUp = await startHangUpListener();
    const answering = await startAnsweringUnavailable();
    const silent = await startSilentGatehouse();
    const proxy = await startCuttableProxy(silent.address);
    try {
      // Never reached: a closed port, a listener that hangs up before HTTP/2. Fast, and again on the next call.
      for (const address of [await refusedAddress(), hangUp.address]) {
        const gate = client({ address, deadlineMs: 2000 });
        for (const attempt of [1, 2]) {
          const started = Date.now();
          await assert.rejects(gate.authorize(reader, SAY), { code: 'ERR_GATEHOUSE_UNREACHABLE', grpcCode: 14 }, `${address} #${attempt}`);
          assert.ok(Date.now() - started < 1000);
        }
      }
      // Reached, then the connection dropped mid-call: UNAVAILABLE from the transport, yet not "never reached".
      // (Retries and re-sends off: they would re-ask the silent gatehouse until the deadline; balancing.test.ts.)
      const cutOff = client({ address: proxy.address, deadlineMs: 5000, retry: false, resends: 0 });
      const pending = cutOff.authorize(reader, SAY);
      while (silent.calls() < 1) await new Promise((r) => setTimeout(r, 5));
      proxy.cut();
      await assert.rejects(pending, { code: 'ERR_GATEHOUSE_UNAVAILABLE', grpcCode: 14 });
      // An answer that says UNAVAILABLE (a proxy in front of gatehouse) is an answer.
      const answered = client({ address: answering.address, retry: false, resends: 0 });
      await assert.rejects(answered.authorize(reader, SAY), { code: 'ERR_GATEHOUSE_UNAVAILABLE', grpcCode: 14 });
      await assert.rejects(answered.verify(reader), { code: 'ERR_GATEHOUSE_UNAVAILABLE', grpcCode: 14 });
      assert.equal(answering.calls(), 2);
    } finally {
      await Promise.all([hangUp.close(), answering.close(), proxy.close()]);
      silent.close();
    }
  });

  it('cached: the local cache’s decision at once, counted as a hit; nothing for a miss, a closed client or no cache', async () => {
    const registry = new Registry();
    const gate = client({ registry });
    assert.equal(gate.cached?.(reader, SAY), undefined, 'nothing asked yet');
    const asked = await gate.authorize(reader, SAY);
    const hit = gate.cached?.(reader, SAY);
    assert.deepEqual([hit?.allowed, hit?.cached, hit?.rule], [true, true, asked.allowed && asked.rule]);
    await gate.authorize(reader, SHOUT);
    const denied = gate.cached?.(reader, SHOUT);
    assert.deepEqual([denied?.allowed, !denied?.allowed && denied?.reason], [false, 'MISSING_ROLE']);
    assert.equal(gate.cached?.(reader, SAY, { tenant: 'a' }), undefined, 'other attributes are another question');
    const text = await registry.metrics();
    assert.match(text, /gatehouse_client_decision_cache_total\{result="hit"\} 2/);
    assert.match(text, /gatehouse_client_decision_cache_total\{result="miss"\} 2/);
    assert.match(text, /gatehouse_client_denials_total\{reason="MISSING_ROLE"\} 2/);
    const uncached = client({ cache: false });
    await uncached.authorize(reader, SAY);
    assert.equal(uncached.cached?.(reader, SAY), undefined);
    gate.close();
    assert.equal(gate.cached?.(reader, SAY), undefined, 'closed means closed');
  });

  it('a closed client refuses every call with ERR_CLIENT_CLOSED, cached decisions included', async () => {
    const gate = createAuthClient({ address: world.gatehouseAddress });
    assert.ok((await gate.authorize(reader, SAY)).allowed);
    gate.close();
    await assert.rejects(gate.authorize(reader, SAY), { code: 'ERR_CLIENT_CLOSED' });
    await assert.rejects(gate.authorize(reader, SHOUT), { code: 'ERR_CLIENT_CLOSED' });
    await assert.rejects(gate.verify(reader), { code: 'ERR_CLIENT_CLOSED' });
    assert.deepEqual(gate.cacheSize(), { decisions: 0, tokens: 0, bytes: 0 });
  });

  it('counts into the caller’s registry only; nothing in prom-client’s global one', async () => {
    const registry = new Registry();
    const gate = client({ registry });
    client({ registry }); // a second client on the same registry reuses the metrics
    await gate.authorize(reader, SAY);
    await gate.authorize(reader, SAY);
    await gate.authorize(reader, SHOUT);
    const text = await registry.metrics();
    assert.match(text, /gatehouse_client_call_duration_seconds_count\{method="Authorize",code="OK"\} 2/);
    assert.match(text, /gatehouse_client_decision_cache_total\{result="hit"\} 1/);
    assert.match(text, /gatehouse_client_decision_cache_total\{result="miss"\} 2/);
    assert.match(text, /gatehouse_client_denials_total\{reason="MISSING_ROLE"\} 1/);
    assert.match(text, /# TYPE gatehouse_client_fail_closed_total counter/);
    assert.doesNotMatch(await globalRegistry.metrics(), /gatehouse_client_/);
  });

  it('refuses unsafe or bad options, naming them', () => {
    assert.throws(() => createAuthClient({ address: 'gatehouse.prod.svc:50051' }), {
      code: 'ERR_CLIENT_OPTIONS',
      message: /credentials is required for the non-loopback address/,
    });
    assert.throws(() => createAuthClient({ address: '127.0.0.1:1', deadlineMs: 0 }), { message: /deadlineMs must be a positive/ });
    assert.throws(() => createAuthClient({ address: '127.0.0.1:1', cache: { maxEntries: 1.5 } }), { message: /cache.maxEntries/ });
    assert.throws(() => createAuthClient({ address: '127.0.0.1:1', cache: { maxBytes: -1 } }), { message: /cache.maxBytes/ });
    createAuthClient({ address: '127.0.0.1:1', cache: { maxBytes: 0 } }).close();
    assert.throws(() => createAuthClient({ address: '' }), { message: /address is required/ });
    for (const local of ['localhost:50051', '[::1]:50051', 'dns:///127.0.0.1:50051', 'unix:/run/gatehouse.sock']) {
      createAuthClient({ address: local }).close();
    }
  });
});
