// Faults at the identity provider (issue 13), through a real gatehouse on a fake clock and a loopback provider
// that misbehaves on demand. Each fault is bounded (a refusal with a reason, never a crash or a hang), logged (a
// warn line naming the problem) and counted (gatehouse_key_fetches_total{outcome="failure"}), and gatehouse
// answers again once the provider does. The core's own cases (single flight, cooldown, max_stale through an
// outage, fetch timeout, removed keys) are in test/verification/key-cache.test.ts.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { startTestGatehouse, type TestGatehouse } from '../helpers/gatehouse.js';
import { parseExposition, valueOf } from '../telemetry/exposition.js';
import { PROVIDER_AUDIENCE, startHostileProvider, type Fault, type HostileProvider } from './hostile-provider.js';

const T0 = 1_790_000_000_000;
const SECOND = 1000;
const COOLDOWN = 30 * SECOND;
const HOUR = 3600 * SECOND;
const RULES = [{ id: 'orders-read', actions: ['GET /orders/*'], any_roles: ['Orders.Read'] }];

describe('faults at the identity provider', () => {
  let provider: HostileProvider;
  let running: TestGatehouse[] = [];
  let now = T0;

  before(async () => {
    provider = await startHostileProvider();
  });
  afterEach(async () => {
    await Promise.all(running.map((gh) => gh.close()));
    running = [];
    provider.fault = 'ok';
    provider.delayMs = 0;
    now = T0;
  });
  after(async () => {
    await provider?.close();
  });

  async function start(opts: { keys?: Record<string, unknown>; issuer?: Record<string, unknown>; waitForKeys?: boolean } = {}) {
    const gh = await startTestGatehouse(
      {
        issuers: [{ id: 'idp', type: 'oidc', issuer: provider.issuer, audiences: [PROVIDER_AUDIENCE], ...opts.issuer }],
        rules: RULES,
        keys: { fetch_timeout: '1s', unknown_kid_cooldown: '30s', refresh_interval: '1h', max_stale: '3h', ...opts.keys },
      },
      { clock: () => now, level: 'debug', ...(opts.waitForKeys === undefined ? {} : { waitForKeys: opts.waitForKeys }) },
    );
    running.push(gh);
    return gh;
  }
  /** A fresh token (its own jti, so no cache answers for it), valid ten hours from T0 on the fake clock. */
  let serial = 0;
  const fresh = (claims: Record<string, unknown> = {}, kid?: string) =>
    provider.token({ now: now / 1000, claims: { jti: `t${++serial}`, exp: T0 / 1000 + 10 * 3600, ...claims }, ...(kid ? { kid } : {}) });
  const outcome = async (gh: TestGatehouse, token: string) => {
    const { response } = await gh.client.authorize(token, 'GET /orders/42');
    return response.allowed ? 'ALLOWED' : response.denial?.reason;
  };
  const failures = async (gh: TestGatehouse) => {
    const text = await (await fetch(`http://127.0.0.1:${gh.gatehouse.httpPort}/metrics`)).text();
    return valueOf(parseExposition(text), 'gatehouse_key_fetches_total', { issuer: 'idp', outcome: 'failure' }) ?? 0;
  };
  const fetchWarnings = (gh: TestGatehouse) =>
    gh.logs.parsed().filter((line) => line.level === 'warn' && line.issuer === 'idp' && typeof line.error === 'string');
  const healthy = async (gh: TestGatehouse) => (await fetch(`http://127.0.0.1:${gh.gatehouse.httpPort}/healthz`)).status === 200;

  it('down at start: KEYS_UNAVAILABLE, logged and counted; allowed once the provider is back and the cooldown has passed', async () => {
    provider.fault = 'down';
    const gh = await start();
    assert.equal(await outcome(gh, fresh()), 'KEYS_UNAVAILABLE');
    assert.ok((await failures(gh)) >= 1);
    assert.match(String(fetchWarnings(gh)[0]?.error), /HTTP 503/);
    provider.fault = 'ok';
    now += COOLDOWN;
    assert.equal(await outcome(gh, fresh()), 'ALLOWED');
  });

  const GARBAGE: [Fault, RegExp][] = [
    ['html', /not JSON/],
    ['huge', /too large/],
    ['invalid-json', /not JSON/],
    ['keys-without-n', /no usable signing key/],
    ['error-500', /HTTP 500/],
    ['redirect-elsewhere', /cannot reach .*redirect/i],
    ['jwks-elsewhere', /jwks_uri .* another host .*jwks_hosts/],
  ];
  for (const [fault, logged] of GARBAGE) {
    it(`answering garbage (${fault}) at start: KEYS_UNAVAILABLE, logged and counted, the server up; then recovers`, async () => {
      provider.fault = fault;
      const gh = await start();
      assert.equal(await outcome(gh, fresh()), 'KEYS_UNAVAILABLE');
      assert.ok((await failures(gh)) >= 1, 'the failed fetch is counted');
      const warnings = fetchWarnings(gh);
      assert.ok(warnings.length >= 1, 'the failed fetch is logged');
      assert.match(String(warnings[0]!.error), logged);
      assert.ok(await healthy(gh));
      provider.fault = 'ok';
      now += COOLDOWN;
      assert.equal(await outcome(gh, fresh()), 'ALLOWED');
    });
  }

  it('garbage mid-run: the last good keys serve until keys.max_stale, then KEYS_UNAVAILABLE', async () => {
    const gh = await start();
    assert.equal(await outcome(gh, fresh()), 'ALLOWED');
    provider.fault = 'html';
    now += COOLDOWN;
    // An unknown kid makes gatehouse refetch: the fetch fails, and a rotation it cannot see is "retry later".
    assert.equal(await outcome(gh, fresh({}, 'not-published')), 'KEYS_UNAVAILABLE');
    assert.ok((await failures(gh)) >= 1);
    now = T0 + 3 * HOUR;
    assert.equal(await outcome(gh, fresh()), 'ALLOWED', 'within max_stale');
    now = T0 + 3 * HOUR + SECOND;
    assert.equal(await outcome(gh, fresh()), 'KEYS_UNAVAILABLE', 'past max_stale');
    provider.fault = 'ok';
    now += COOLDOWN;
    assert.equal(await outcome(gh, fresh()), 'ALLOWED');
  });

  it('slow: twenty calls on a cold cache share one fetch, and each is answered when keys.fetch_timeout ends it', async () => {
    provider.delayMs = 3000;
    const before = provider.requests();
    const gh = await start({ waitForKeys: false });
    const answers = await Promise.all(Array.from({ length: 20 }, () => outcome(gh, fresh())));
    assert.deepEqual(new Set(answers), new Set(['KEYS_UNAVAILABLE']));
    assert.equal(provider.requests() - before, 1, 'one discovery request, no more');
    assert.match(String(fetchWarnings(gh)[0]?.error), /timed out after 1000 ms/);
  });

  it('slow discovery, then a slow JWKS: the two share one keys.fetch_timeout, so no call waits for both', async () => {
    // Each answer takes 600 ms: either alone fits in the 1 s timeout, the two together do not.
    provider.delayMs = 600;
    const gh = await start({ waitForKeys: false });
    assert.equal(await outcome(gh, fresh()), 'KEYS_UNAVAILABLE');
    assert.match(String(fetchWarnings(gh)[0]?.error), /timed out after 1000 ms/);
  });

  it('a 500 loop: calls never multiply fetches, at most one per unknown_kid_cooldown', async () => {
    provider.fault = 'error-500';
    const gh = await start();
    const afterStart = provider.requests();
    const answers = await Promise.all(Array.from({ length: 50 }, () => outcome(gh, fresh())));
    assert.deepEqual(new Set(answers), new Set(['KEYS_UNAVAILABLE']));
    assert.equal(provider.requests(), afterStart, 'within the cooldown, no call fetches');
    now += COOLDOWN;
    await Promise.all(Array.from({ length: 50 }, () => outcome(gh, fresh())));
    assert.equal(provider.requests(), afterStart + 1, 'past it, one fetch for all of them');
  });

  it('discovery naming a jwks_uri on another host: refused unless that host is in issuers[].jwks_hosts', async () => {
    provider.fault = 'jwks-elsewhere';
    const refused = await start();
    assert.equal(await outcome(refused, fresh()), 'KEYS_UNAVAILABLE');
    const allowed = await start({ issuer: { jwks_hosts: [provider.otherHost] } });
    assert.equal(await outcome(allowed, fresh()), 'ALLOWED');
  });

  it('key rotation and removal: a new key is picked up on first sight, a removed key’s tokens are refused, cached or not', async () => {
    const gh = await start();
    const oldKid = provider.currentKid();
    const cached = fresh();
    assert.equal(await outcome(gh, cached), 'ALLOWED');
    provider.rotate(false);
    now += COOLDOWN;
    assert.equal(await outcome(gh, fresh()), 'ALLOWED', 'the new key, after one refetch');
    assert.equal(await outcome(gh, fresh({}, oldKid)), 'KEY_NOT_FOUND', 'the removed key');
    assert.equal(await outcome(gh, cached), 'KEY_NOT_FOUND', 'a decision cached under the removed key is dropped');
  });

  it('the provider’s clock skewed by minutes: within tokens.clock_skew accepted, beyond it refused with the reason', async () => {
    const gh = await start();
    const at = (offsetSeconds: number, claims: Record<string, unknown> = {}) =>
      provider.token({ now: now / 1000 + offsetSeconds, claims: { jti: `s${++serial}`, ...claims } });
    assert.equal(await outcome(gh, at(5 * 60)), 'TOKEN_NOT_YET_VALID', 'issued five minutes in our future');
    assert.equal(await outcome(gh, at(30)), 'ALLOWED', 'thirty seconds ahead: within the 60 s skew');
    assert.equal(await outcome(gh, at(-3600 - 5 * 60)), 'TOKEN_EXPIRED', 'expired five minutes ago');
    assert.equal(await outcome(gh, at(-3600 - 30)), 'ALLOWED', 'expired thirty seconds ago: within the skew');
  });

  it('our clock stepped back by minutes after a fetch: a rotation is still picked up (no cooldown counted backwards)', async () => {
    const gh = await start();
    assert.equal(await outcome(gh, fresh()), 'ALLOWED');
    provider.rotate(true);
    now -= 10 * 60 * SECOND;
    assert.equal(await outcome(gh, fresh()), 'ALLOWED', 'the new kid is fetched although the clock reads earlier than the last fetch');
  });
});
