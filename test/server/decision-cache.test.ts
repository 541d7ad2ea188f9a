// The decision cache seen through the gRPC server: hits (audited as cached), a tampered payload that reuses a
// valid signature segment, expiry at the token's exp and at max_ttl on an injected clock, and reload clearing it.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startEntraServer, type EntraServer } from '../helpers/entra-server.js';
import { startTestGatehouse, testConfig, type AuditLine, type TestGatehouse } from '../helpers/gatehouse.js';

const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const AUD = 'api://orders';
const GET = '/orders.v1.Orders/GetOrder';
const START = 1_790_000_000_000; // the fake clock's start, ms since the epoch

describe('decision cache over gRPC', () => {
  let entra: EntraServer;
  let gh: TestGatehouse;
  let nowMs = START;
  const config = (anyRoles: string[], ruleId = 'orders-read') => ({
    issuers: [{ id: 'contoso', type: 'entra', tenant: TENANT, authority: entra.base, audiences: [AUD] }],
    tokens: { clock_skew: '0s' },
    decisions: { max_ttl: '60s' },
    rules: [{ id: ruleId, actions: ['/orders.v1.Orders/Get*'], any_roles: anyRoles }],
  });
  const mint = (roles: string[], expiresIn = 3600) =>
    entra.mint({ version: 2, tid: TENANT, aud: AUD, now: Math.floor(nowMs / 1000), expiresIn, claims: { roles } });

  /** Authorize with a fresh request id; the response and the one audit line it wrote. */
  async function authorize(token: string, action = GET) {
    const requestId = randomUUID();
    const { response } = await gh.client.authorize(token, action, { requestId });
    const lines = gh.logs.audit(requestId);
    assert.equal(lines.length, 1, 'one audit line per decision');
    return { response, audit: lines[0] as AuditLine };
  }

  before(async () => {
    entra = await startEntraServer();
    gh = await startTestGatehouse(config(['Orders.Read']), { clock: () => nowMs });
  });
  after(async () => {
    await gh?.close();
    await entra?.close();
  });

  it('a second identical Authorize is a cache hit, audited with cached: true', async () => {
    const token = await mint(['Orders.Read']);
    const first = await authorize(token);
    assert.equal(first.response.allowed, true);
    assert.equal(first.audit.cached, false);
    const size = gh.gatehouse.authorizer().cachedDecisions;

    const second = await authorize(token);
    assert.equal(second.audit.cached, true);
    assert.equal(second.response.allowed, true);
    assert.equal(second.response.rule, 'orders-read');
    assert.equal(second.response.principal?.subject, first.response.principal?.subject);
    assert.equal(gh.gatehouse.authorizer().cachedDecisions, size);

    const otherAction = await authorize(token, '/orders.v1.Orders/GetInvoice');
    assert.equal(otherAction.audit.cached, false, 'the action is part of the key');
  });

  it('the same token with or without "Bearer " shares one entry', async () => {
    const token = await mint(['Orders.Read']);
    assert.equal((await authorize(`Bearer ${token}`)).audit.cached, false);
    assert.equal((await authorize(token)).audit.cached, true);
    assert.equal((await authorize(`bearer  ${token} `)).audit.cached, true);
  });

  it('a denial is cached too', async () => {
    const token = await mint(['Orders.Write']);
    assert.equal((await authorize(token)).response.denial?.reason, 'MISSING_ROLE');
    const again = await authorize(token);
    assert.equal(again.audit.cached, true);
    assert.equal(again.response.denial?.reason, 'MISSING_ROLE');
  });

  it('a token whose payload changed but whose signature segment is reused misses the cache and is refused', async () => {
    const token = await mint(['Orders.Write']);
    assert.equal((await authorize(token)).response.allowed, false);
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    const forged = [header, Buffer.from(JSON.stringify({ ...claims, roles: ['Orders.Read'] })).toString('base64url'), signature].join('.');

    const { response, audit } = await authorize(forged);
    assert.equal(audit.cached, false);
    assert.equal(response.allowed, false);
    assert.equal(response.denial?.reason, 'SIGNATURE_INVALID');
    assert.equal(response.principal, null);

    // And a forged token never lands in the cache: asking again verifies (and refuses) again.
    assert.equal((await authorize(forged)).audit.cached, false);
  });

  it('an entry expires at the token exp, on the injected clock', async () => {
    const token = await mint(['Orders.Read'], 30);
    const first = await authorize(token);
    assert.equal(first.response.allowed, true);
    assert.deepEqual(first.response.cacheFor, { seconds: 30, nanos: 0 });

    nowMs += 29_000;
    const hit = await authorize(token);
    assert.equal(hit.audit.cached, true);
    assert.deepEqual(hit.response.cacheFor, { seconds: 1, nanos: 0 });

    nowMs += 1_000; // exactly exp
    const expired = await authorize(token);
    assert.equal(expired.audit.cached, false);
    assert.equal(expired.response.allowed, false);
    assert.equal(expired.response.denial?.reason, 'TOKEN_EXPIRED');
  });

  it('an entry expires at decisions.max_ttl when the token lives longer', async () => {
    const token = await mint(['Orders.Read'], 3600);
    assert.deepEqual((await authorize(token)).response.cacheFor, { seconds: 60, nanos: 0 });
    nowMs += 59_999;
    assert.equal((await authorize(token)).audit.cached, true);
    nowMs += 1;
    const renewed = await authorize(token);
    assert.equal(renewed.audit.cached, false);
    assert.equal(renewed.response.allowed, true);
    assert.deepEqual(renewed.response.cacheFor, { seconds: 60, nanos: 0 });
  });

  it('a reload clears the cache and the new rules apply at once', async () => {
    const token = await mint(['Orders.Read']);
    await authorize(token);
    assert.equal((await authorize(token)).audit.cached, true);
    assert.ok(gh.gatehouse.authorizer().cachedDecisions > 0);

    await gh.gatehouse.reload(testConfig(config(['Orders.Admin'], 'orders-admin-only')));
    assert.equal(gh.gatehouse.authorizer().cachedDecisions, 0);
    const after = await authorize(token);
    assert.equal(after.audit.cached, false);
    assert.equal(after.response.allowed, false);
    assert.equal(after.response.denial?.reason, 'MISSING_ROLE');
    assert.equal(after.response.rule, 'orders-admin-only');

    // A reload that changes the issuers' settings builds a new engine: nothing cached carries over either.
    await gh.gatehouse.reload(testConfig({ ...config(['Orders.Read']), tokens: { clock_skew: '1s' } }));
    assert.equal(gh.gatehouse.authorizer().cachedDecisions, 0);
    const back = await authorize(token);
    assert.equal(back.audit.cached, false);
    assert.equal(back.response.rule, 'orders-read');
    assert.equal(back.response.allowed, true);
  });
});
