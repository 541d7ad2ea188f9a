// Revocation end to end through the real listeners: every matcher, issuer scoping, issued_before (older refused,
// newer allowed, no iat refused), cached decisions and verified tokens refused once the list changes, every door,
// a bad file keeping the last list (counted on /metrics), 100,000 entries, and a missing file refusing to start.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startGatehouse } from '../../src/app.js';
import { ConfigError } from '../../src/config/load.js';
import { parseRevocationText } from '../../src/config/revocation-file.js';
import { createLogger } from '../../src/telemetry/logger.js';
import { LogLines, startTestGatehouse, testConfig, type TestGatehouse } from '../helpers/gatehouse.js';
import { rawRequest } from '../helpers/raw-http.js';
import { LOOPBACK_AUDIENCE, startLoopbackIssuer, type LoopbackIssuer } from '../verification/loopback-issuer.js';

const ACTION = '/orders.v1.Orders/GetOrder';

/** The exposition value of a sample line, e.g. `gatehouse_revocation_loads_total{outcome="failure"}`. */
async function sample(gh: TestGatehouse, series: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${gh.gatehouse.httpPort}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  assert.ok(line, `${series} is exposed`);
  return Number(line.split(' ')[1]);
}

describe('revocation: revocations.file refuses matching tokens with TOKEN_REVOKED', () => {
  let loop: LoopbackIssuer;
  let other: LoopbackIssuer;
  let gh: TestGatehouse;
  let dir: string;
  let file: string;

  const token = (claims: Record<string, unknown>, from = loop, now?: number) =>
    from.token({ claims: { sub: 'alice', ...claims }, ...(now !== undefined ? { now } : {}) });
  /** Replaces the list and loads it, as the file watch does. */
  const revoke = async (yaml: string) => {
    writeFileSync(file, yaml);
    await gh.gatehouse.reloadRevocations('test');
  };
  const reasonOf = async (t: string) => {
    const { response } = await gh.client.authorize(t, ACTION);
    return response.allowed ? 'ALLOWED' : response.denial!.reason;
  };

  before(async () => {
    [loop, other] = await Promise.all([startLoopbackIssuer(), startLoopbackIssuer()]);
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-revocation-'));
    file = join(dir, 'revoked.yaml');
    writeFileSync(file, '# nothing revoked yet\n');
    gh = await startTestGatehouse({
      issuers: [
        { id: 'loop', type: 'oidc', issuer: loop.issuer, audiences: [LOOPBACK_AUDIENCE] },
        { id: 'other', type: 'oidc', issuer: other.issuer, audiences: [LOOPBACK_AUDIENCE] },
      ],
      rules: [
        { id: 'orders', actions: ['/orders.v1.Orders/*'] },
        { id: 'orders-http', actions: ['GET /orders/*'] },
      ],
      revocations: { file },
    });
  });
  after(async () => {
    await gh?.close();
    await Promise.all([loop?.close(), other?.close()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('tells callers to cache an allow at most revocations.client_cache_max (5s), since their caches cannot be recalled', async () => {
    await revoke('- sub: mallory\n');
    const first = (await gh.client.authorize(token({ sub: 'carol' }), ACTION)).response;
    const cached = (await gh.client.authorize(token({ sub: 'carol' }), ACTION)).response;
    for (const response of [first, cached]) {
      assert.equal(response.allowed, true);
      assert.ok(Number(response.cacheFor?.seconds ?? 0) <= 5, JSON.stringify(response.cacheFor));
      assert.ok(Number(response.cacheFor?.seconds ?? 0) >= 4, 'capped, not zeroed');
    }
  });

  it('by sub: Authorize and Verify refuse it, the message names the kind of entry, never the token or value', async () => {
    await revoke('- sub: mallory\n');
    const revoked = token({ sub: 'mallory' });
    const { response } = await gh.client.authorize(revoked, ACTION);
    assert.equal(response.allowed, false);
    assert.equal(response.denial?.reason, 'TOKEN_REVOKED');
    assert.match(response.denial!.message, /revocation entry on sub/);
    assert.ok(!response.denial!.message.includes('mallory') && !response.denial!.message.includes(revoked));
    const verified = await gh.client.verify(revoked);
    assert.equal(verified.response.valid, false);
    assert.equal(verified.response.denial?.reason, 'TOKEN_REVOKED');
    assert.equal(await reasonOf(token({ sub: 'alice' })), 'ALLOWED');
  });

  it('by oid, jti, uti and client_id (azp), each its own claim', async () => {
    await revoke('- oid: oid-1\n- jti: jti-1\n- uti: uti-1\n- client_id: app-1\n');
    assert.equal(await reasonOf(token({ oid: 'oid-1' })), 'TOKEN_REVOKED');
    assert.equal(await reasonOf(token({ jti: 'jti-1' })), 'TOKEN_REVOKED');
    assert.equal(await reasonOf(token({ uti: 'uti-1' })), 'TOKEN_REVOKED');
    assert.equal(await reasonOf(token({ azp: 'app-1' })), 'TOKEN_REVOKED');
    // Each matcher reads its own claim: a jti value in uti (and so on) does not match.
    assert.equal(await reasonOf(token({ uti: 'jti-1', jti: 'oid-1', oid: 'uti-1', sub: 'app-1' })), 'ALLOWED');
    assert.equal(await reasonOf(token({ jti: 'jti-2', azp: 'app-2' })), 'ALLOWED');
  });

  it('several matchers in one entry must all match', async () => {
    await revoke('- { sub: alice, client_id: app-1 }\n');
    assert.equal(await reasonOf(token({ sub: 'alice', azp: 'app-1' })), 'TOKEN_REVOKED');
    assert.equal(await reasonOf(token({ sub: 'alice', azp: 'app-2' })), 'ALLOWED');
    assert.equal(await reasonOf(token({ sub: 'bob', azp: 'app-1' })), 'ALLOWED');
  });

  it('issuer: only tokens of that configured issuer are refused', async () => {
    await revoke('- { sub: shared, issuer: other }\n');
    assert.equal(await reasonOf(token({ sub: 'shared' }, other)), 'TOKEN_REVOKED');
    assert.equal(await reasonOf(token({ sub: 'shared' }, loop)), 'ALLOWED');
  });

  it('issued_before: older tokens refused, newer allowed, a token with no iat refused (fail closed)', async () => {
    const now = Math.floor(Date.now() / 1000);
    const cutoff = new Date((now - 60) * 1000).toISOString();
    await revoke(`- sub: alice\n  issued_before: "${cutoff}"\n`);
    const older = token({ sub: 'alice' }, loop, now - 120);
    assert.equal(await reasonOf(older), 'TOKEN_REVOKED');
    assert.match((await gh.client.authorize(older, ACTION)).response.denial!.message, /issued before/);
    assert.equal(await reasonOf(token({ sub: 'alice' }, loop, now)), 'ALLOWED', 'signed in again after the cut-off');
    assert.equal(await reasonOf(token({ sub: 'alice', iat: undefined })), 'TOKEN_REVOKED', 'no iat: cannot show it is newer');
    assert.equal(await reasonOf(token({ sub: 'bob', iat: undefined })), 'ALLOWED', 'no entry for bob');
  });

  it('a cached allow and a cached verified token are refused on the next call after the list changes', async () => {
    await revoke('[]\n');
    const cached = token({ sub: 'carol' });
    assert.equal((await gh.client.authorize(cached, ACTION)).response.allowed, true);
    const second = await gh.client.authorize(cached, ACTION);
    assert.equal(second.response.allowed, true);
    assert.equal((await gh.client.verify(cached)).response.valid, true);
    assert.ok(
      gh.logs.audit().some((l) => l.subject === 'carol' && l.cached),
      'the second decision came from the cache',
    );

    await revoke('- sub: carol\n');
    assert.equal(await reasonOf(cached), 'TOKEN_REVOKED');
    assert.equal((await gh.client.verify(cached)).response.denial?.reason, 'TOKEN_REVOKED');
    const batch = await gh.client.authorizeBatch(cached, [ACTION, '/orders.v1.Orders/ListOrders']);
    assert.deepEqual(
      batch.response.results.map((r) => r.denial?.reason),
      ['TOKEN_REVOKED', 'TOKEN_REVOKED'],
    );

    await revoke('[]\n');
    assert.equal(await reasonOf(cached), 'ALLOWED', 'taken off the list: allowed again');
  });

  it('the HTTP forward-auth door refuses a revoked token with 401 TOKEN_REVOKED', async () => {
    await revoke('- sub: mallory\n');
    const ask = (t: string) =>
      rawRequest(gh.gatehouse.httpPort, 'GET', '/v1/authz', [
        ['X-Original-Method', 'GET'],
        ['X-Original-URI', '/orders/42'],
        ['Authorization', `Bearer ${t}`],
      ]);
    assert.equal((await ask(token({ sub: 'alice' }))).status, 200);
    const res = await ask(token({ sub: 'mallory' }));
    assert.equal(res.status, 401, res.body);
    assert.equal(res.header('x-gatehouse-reason'), 'TOKEN_REVOKED');
  });

  it('a YAML flow list and a JSON array load alike; an empty file is an empty list', async () => {
    await revoke('[{ sub: mallory }]');
    assert.equal(await reasonOf(token({ sub: 'mallory' })), 'TOKEN_REVOKED');
    await revoke('[{"jti": "jti-9"}]');
    assert.equal(await reasonOf(token({ jti: 'jti-9' })), 'TOKEN_REVOKED');
    assert.equal(await reasonOf(token({ sub: 'mallory' })), 'ALLOWED');
    await revoke('');
    assert.equal(await sample(gh, 'gatehouse_revocations_entries'), 0);
  });

  it('a bad file keeps the last good list, logs why and counts a failed load', async () => {
    await revoke('- sub: mallory\n');
    const failures = await sample(gh, 'gatehouse_revocation_loads_total{outcome="failure"}');
    await revoke('- sub: mallory\n- issuer: loop\n- sub: alice\n  issued_before: yesterday\n');
    assert.equal(await sample(gh, 'gatehouse_revocation_loads_total{outcome="failure"}'), failures + 1);
    assert.equal(await sample(gh, 'gatehouse_revocations_entries'), 1);
    const line = gh.logs
      .parsed()
      .filter((l) => l.msg === 'revocations load failed; the last good list stays in force')
      .at(-1);
    const problems = (line?.problems as string[]).join('\n');
    assert.match(problems, /revocations\.file \(.*revoked\.yaml\): \[1\]: an entry needs at least one of/);
    assert.match(problems, /\[2\]\.issued_before: must be an RFC 3339 time/);
    assert.equal(await reasonOf(token({ sub: 'mallory' })), 'TOKEN_REVOKED', 'the last good list is in force');
    assert.equal(await reasonOf(token({ sub: 'alice' })), 'ALLOWED');

    await revoke('sub: mallory\n');
    assert.equal(await sample(gh, 'gatehouse_revocation_loads_total{outcome="failure"}'), failures + 2, 'not a list');
    writeFileSync(file, '- sub: [unclosed\n');
    await gh.gatehouse.reloadRevocations('test');
    assert.equal(await sample(gh, 'gatehouse_revocation_loads_total{outcome="failure"}'), failures + 3, 'not YAML');
    assert.equal(await reasonOf(token({ sub: 'mallory' })), 'TOKEN_REVOKED');
  });

  it('100,000 entries load (a JSON array, the fast form), and the last of them revokes', async () => {
    const entries: Record<string, string>[] = [];
    for (let i = 0; i < 100_000; i++) entries.push(i % 2 ? { jti: `jti-${i}` } : { sub: `user-${i}`, issuer: 'loop' });
    const successes = await sample(gh, 'gatehouse_revocation_loads_total{outcome="success"}');
    await revoke(JSON.stringify(entries));
    assert.equal(await sample(gh, 'gatehouse_revocation_loads_total{outcome="success"}'), successes + 1);
    assert.equal(await sample(gh, 'gatehouse_revocations_entries'), 100_000);
    assert.equal(await reasonOf(token({ jti: 'jti-99999' })), 'TOKEN_REVOKED');
    assert.equal(await reasonOf(token({ sub: 'user-99998' })), 'TOKEN_REVOKED');
    assert.equal(await reasonOf(token({ sub: 'user-99998' }, other)), 'ALLOWED', 'issuer-scoped entry');
    assert.equal(await reasonOf(token({ sub: 'user-99999' })), 'ALLOWED');
  });
});

describe('revocation: a file that cannot be loaded at start refuses to start, naming the key', () => {
  it('missing file: ConfigError naming revocations.file, before any port is opened', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-revocation-'));
    const config = testConfig({
      issuers: [{ id: 'loop', type: 'oidc', issuer: 'http://127.0.0.1:1', audiences: [LOOPBACK_AUDIENCE] }],
      revocations: { file: join(dir, 'absent.yaml') },
    });
    const logger = createLogger({ level: 'silent', destination: new LogLines().stream });
    await assert.rejects(startGatehouse(config, { logger }), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.problems.join('\n'), /^revocations\.file: cannot read .*absent\.yaml: ENOENT$/m);
      return true;
    });
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('revocation file validation', () => {
  it('refuses an issued_before the calendar does not have (2026-02-30 would silently become March 2)', () => {
    assert.throws(() => parseRevocationText('- sub: alice\n  issued_before: "2026-02-30T00:00:00Z"\n', 'test'), /issued_before/);
    assert.equal(parseRevocationText('- sub: alice\n  issued_before: "2028-02-29T00:00:00Z"\n', 'test').length, 1);
  });
});
