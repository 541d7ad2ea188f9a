// Fresh sessions and Entra step-up through the real server, on a fake clock, with a loopback Entra authority minting
// real-format tokens: SESSION_TOO_OLD (auth_time, iat, skew, no iat), cache_for shrinking to the session deadline and
// a cached allow not served past it, AUTH_CONTEXT_REQUIRED with and without cp1 (the claims challenge on the RPC, as
// WWW-Authenticate 401 on the Envoy and HTTP doors), and an acrs that is a string denied.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { WireDuration } from '../../src/contract/messages.js';
import { startEntraServer, type EntraServer } from '../helpers/entra-server.js';
import { EnvoyTestClient, headerOf } from '../helpers/envoy-client.js';
import { startTestGatehouse, type TestGatehouse } from '../helpers/gatehouse.js';
import { rawRequest } from '../helpers/raw-http.js';
import { LOOPBACK_AUDIENCE, startLoopbackIssuer, type LoopbackIssuer } from '../verification/loopback-issuer.js';

const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const AUD = 'api://orders';
const REFUND = '/orders.v1.Orders/Refund';
const APPROVE = '/orders.v1.Orders/Approve';
const START_S = 1_790_000_000;

const ms = (d: WireDuration | null) => Number(d?.seconds ?? 0) * 1000 + Math.round((d?.nanos ?? 0) / 1e6);

/** The JSON a claims challenge's `claims` parameter carries, and its authorization_uri. */
function parseChallenge(challenge: string): { uri: string; claims: unknown } {
  const match = /^Bearer realm="", authorization_uri="([^"]+)", error="insufficient_claims", claims="([A-Za-z0-9+/=]+)"$/.exec(challenge);
  assert.ok(match, `not a claims challenge: ${challenge}`);
  return { uri: match[1]!, claims: JSON.parse(Buffer.from(match[2]!, 'base64').toString('utf8')) };
}

describe('step-up over the real server: max_age and auth_contexts', () => {
  let entra: EntraServer;
  let oidc: LoopbackIssuer;
  let gh: TestGatehouse;
  let skewed: TestGatehouse;
  let envoy: EnvoyTestClient;
  let nowMs = START_S * 1000;
  const nowS = () => Math.floor(nowMs / 1000);
  const config = (skew: string) => ({
    issuers: [
      { id: 'contoso', type: 'entra', tenant: TENANT, authority: entra.base, audiences: [AUD] },
      // An OIDC issuer need not send iat (Entra must): a session that does not say when it began.
      { id: 'idp', type: 'oidc', issuer: oidc.issuer, audiences: [LOOPBACK_AUDIENCE] },
    ],
    tokens: { clock_skew: skew, max_age: '8h' },
    decisions: { max_ttl: '60s' },
    rules: [
      { id: 'refund', actions: [REFUND, 'POST /orders/*/refund'], any_roles: ['Orders.Refund'], max_age: '10m' },
      { id: 'approve', actions: [APPROVE, 'POST /orders/*/approve'], any_roles: ['Orders.Approve'], auth_contexts: ['c1', 'c2'] },
      { id: 'read', actions: ['/orders.v1.Orders/Get*'], any_roles: ['Orders.Read'] },
    ],
  });
  const mint = (claims: Record<string, unknown>, omit: string[] = []) =>
    entra.mint({
      version: 2,
      tid: TENANT,
      aud: AUD,
      now: nowS(),
      claims: { roles: ['Orders.Refund', 'Orders.Approve', 'Orders.Read'], ...claims },
      omit,
    });

  before(async () => {
    entra = await startEntraServer();
    oidc = await startLoopbackIssuer();
    gh = await startTestGatehouse(config('0s'), { clock: () => nowMs });
    skewed = await startTestGatehouse(config('60s'), { clock: () => nowMs });
    envoy = new EnvoyTestClient(gh.address);
  });
  after(async () => {
    envoy?.close();
    await gh?.close();
    await skewed?.close();
    await entra?.close();
    await oidc?.close();
  });

  it('SESSION_TOO_OLD by iat, with the age and the limit in the message; a fresh session is allowed', async () => {
    const fresh = await mint({ iat: nowS() - 60 });
    assert.equal((await gh.client.authorize(fresh, REFUND)).response.allowed, true);
    const old = await mint({ iat: nowS() - 700 });
    const { response } = await gh.client.authorize(old, REFUND);
    assert.equal(response.allowed, false);
    assert.equal(response.denial?.reason, 'SESSION_TOO_OLD');
    assert.match(response.denial?.message ?? '', /11m40s old \(by iat\).*up to 10m/);
    assert.equal(response.rule, 'refund');
  });

  it('SESSION_TOO_OLD by auth_time even when iat is fresh (a refreshed token keeps its sign-in)', async () => {
    const token = await mint({ iat: nowS(), auth_time: nowS() - 3600 });
    const { response } = await gh.client.authorize(token, REFUND);
    assert.equal(response.denial?.reason, 'SESSION_TOO_OLD');
    assert.match(response.denial?.message ?? '', /1h old \(by auth_time\)/);
  });

  it('tokens.clock_skew widens max_age', async () => {
    const token = await mint({ iat: nowS() - 630 });
    assert.equal((await gh.client.authorize(token, REFUND)).response.denial?.reason, 'SESSION_TOO_OLD');
    assert.equal((await skewed.client.authorize(token, REFUND)).response.allowed, true);
  });

  it('a token without iat (and no auth_time) is denied, under a rule max_age and under tokens.max_age alone', async () => {
    const roles = ['Orders.Refund', 'Orders.Read'];
    const token = oidc.token({ now: nowS(), claims: { iat: undefined, roles } });
    assert.equal((await gh.client.verify(token)).response.valid, true, 'the token itself verifies');
    for (const action of [REFUND, '/orders.v1.Orders/GetOrder']) {
      const { response } = await gh.client.authorize(token, action);
      assert.equal(response.allowed, false, action);
      assert.equal(response.denial?.reason, 'SESSION_TOO_OLD', action);
      assert.match(response.denial?.message ?? '', /does not say when the user signed in/);
    }
    assert.equal((await gh.client.authorize(oidc.token({ now: nowS(), claims: { roles } }), REFUND)).response.allowed, true);
  });

  it('an auth_time that is not a number is denied (no fallback to a fresh iat)', async () => {
    const token = await mint({ iat: nowS(), auth_time: String(nowS()) });
    assert.equal((await gh.client.authorize(token, REFUND)).response.denial?.reason, 'SESSION_TOO_OLD');
  });

  it('cache_for shrinks to the session deadline, and the cached allow is not served past it', async () => {
    const token = await mint({ iat: nowS() - 590 });
    const first = await gh.client.authorize(token, REFUND);
    assert.equal(first.response.allowed, true);
    assert.equal(ms(first.response.cacheFor), 10_000, 'until sign-in + 10m, not max_ttl (60s)');
    nowMs += 5_000;
    const requestId = randomUUID();
    const cached = await gh.client.authorize(token, REFUND, { requestId });
    assert.equal(cached.response.allowed, true);
    assert.equal(gh.logs.audit(requestId)[0]?.cached, true);
    assert.equal(ms(cached.response.cacheFor), 5_000);
    nowMs += 5_000;
    const late = await gh.client.authorize(token, REFUND);
    assert.equal(late.response.denial?.reason, 'SESSION_TOO_OLD', 'at the deadline the cached allow is gone');
  });

  it('AUTH_CONTEXT_REQUIRED with a claims challenge for a cp1 client, naming the issuer authorize endpoint', async () => {
    const token = await mint({ iat: nowS(), xms_cc: ['cp1'], acrs: ['c9'] });
    const { response } = await gh.client.authorize(token, APPROVE);
    assert.equal(response.denial?.reason, 'AUTH_CONTEXT_REQUIRED');
    assert.match(response.denial?.message ?? '', /one of \[c1 c2\]/);
    const { uri, claims } = parseChallenge(response.denial?.challenge ?? '');
    assert.equal(uri, `${entra.base}/${TENANT}/oauth2/v2.0/authorize`);
    assert.deepEqual(claims, { access_token: { acrs: { essential: true, value: 'c1' } } });
    // Served again from the cache: the same challenge.
    assert.equal((await gh.client.authorize(token, APPROVE)).response.denial?.challenge, response.denial?.challenge);
  });

  it('AUTH_CONTEXT_REQUIRED without cp1: no challenge, the message names the context', async () => {
    const token = await mint({ iat: nowS() });
    const { response } = await gh.client.authorize(token, APPROVE);
    assert.equal(response.denial?.reason, 'AUTH_CONTEXT_REQUIRED');
    assert.equal(response.denial?.challenge, '');
    assert.match(response.denial?.message ?? '', /"value":"c1"/);
  });

  it('a token whose acrs is a string is denied; one whose acrs lists c2 is allowed', async () => {
    const stringy = await mint({ iat: nowS(), acrs: 'c1' });
    assert.equal((await gh.client.authorize(stringy, APPROVE)).response.denial?.reason, 'AUTH_CONTEXT_REQUIRED');
    const stepped = await mint({ iat: nowS(), acrs: ['c2'] });
    assert.equal((await gh.client.authorize(stepped, APPROVE)).response.allowed, true);
  });

  it('Envoy: the challenge as WWW-Authenticate with 401 (403 without cp1)', async () => {
    const capable = await mint({ iat: nowS(), xms_cc: ['cp1'] });
    const path = '/orders/42/approve';
    const denied = await envoy.check({ method: 'POST', path, headers: [['authorization', `Bearer ${capable}`]] });
    assert.equal(denied.denied_response?.status?.code, 'Unauthorized');
    const challenge = headerOf(denied.denied_response?.headers, 'www-authenticate') ?? '';
    assert.deepEqual(parseChallenge(challenge).claims, { access_token: { acrs: { essential: true, value: 'c1' } } });
    assert.equal(headerOf(denied.denied_response?.headers, 'x-gatehouse-reason'), 'AUTH_CONTEXT_REQUIRED');

    const plain = await mint({ iat: nowS() });
    const refused = await envoy.check({ method: 'POST', path, headers: [['authorization', `Bearer ${plain}`]] });
    assert.equal(refused.denied_response?.status?.code, 'Forbidden');
    assert.match(headerOf(refused.denied_response?.headers, 'www-authenticate') ?? '', /insufficient_scope/);
  });

  it('HTTP forward auth: the challenge as WWW-Authenticate with 401; SESSION_TOO_OLD is 401 insufficient_user_authentication', async () => {
    const capable = await mint({ iat: nowS(), xms_cc: ['cp1'] });
    const ask = (token: string, method: string, uri: string) =>
      rawRequest(gh.gatehouse.httpPort, 'GET', '/v1/authz', [
        ['X-Original-Method', method],
        ['X-Original-URI', uri],
        ['Authorization', `Bearer ${token}`],
      ]);
    const res = await ask(capable, 'POST', '/orders/42/approve');
    assert.equal(res.status, 401, res.body);
    assert.equal(res.header('x-gatehouse-reason'), 'AUTH_CONTEXT_REQUIRED');
    assert.equal(parseChallenge(res.header('www-authenticate') ?? '').uri, `${entra.base}/${TENANT}/oauth2/v2.0/authorize`);

    const old = await ask(await mint({ iat: nowS() - 3600 }), 'POST', '/orders/42/refund');
    assert.equal(old.status, 401, old.body);
    assert.equal(old.header('x-gatehouse-reason'), 'SESSION_TOO_OLD');
    assert.match(old.header('www-authenticate') ?? '', /^Bearer realm="gatehouse", error="insufficient_user_authentication"/);
  });
});
