// `when` conditions through the real doors: gRPC Authorize/AuthorizeBatch read `attributes`, Envoy Check reads the
// request (never its authorization header) and context_extensions, forward auth reads the forwarded request; and
// the decision cache never serves a decision made for other facts, in either order.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { questionKey } from '../../src/decisions/question-key.js';
import { compileRules } from '../../src/policy/compile-rules.js';
import { EnvoyTestClient } from '../helpers/envoy-client.js';
import { startTestGatehouse, type TestGatehouse } from '../helpers/gatehouse.js';
import { rawRequest } from '../helpers/raw-http.js';
import { LOOPBACK_AUDIENCE, startLoopbackIssuer, type LoopbackIssuer } from '../verification/loopback-issuer.js';

const RULES = [
  { id: 'tenant-orders', actions: ['/orders.v1.Orders/*'], any_roles: ['Orders.Read'], when: 'attributes.tenant == principal.claims.tid' },
  { id: 'own-orders', actions: ['GET /users/{user}/orders/*'], any_roles: ['Orders.Read'], when: 'params.user == principal.subject' },
  { id: 'header', actions: ['GET /reports/*'], when: 'request.headers["x-region"] == "eu" && !("authorization" in request.headers)' },
  { id: 'route', actions: ['GET /route/*'], when: 'attributes.zone == "blue"' },
  { id: 'clock', actions: ['/clock.v1.Clock/*'], when: 'now > timestamp("2000-01-01T00:00:00Z")' },
  { id: 'plain', actions: ['/plain.v1.Plain/*'], any_roles: ['Orders.Read'] },
];

describe('when conditions through the doors', () => {
  let issuer: LoopbackIssuer;
  let gh: TestGatehouse;
  let envoy: EnvoyTestClient;
  let alice: string;

  before(async () => {
    issuer = await startLoopbackIssuer();
    gh = await startTestGatehouse({
      issuers: [{ id: 'idp', type: 'oidc', issuer: issuer.issuer, audiences: [LOOPBACK_AUDIENCE] }],
      rules: RULES,
    });
    envoy = new EnvoyTestClient(gh.address);
    alice = issuer.token({ claims: { sub: 'alice', roles: ['Orders.Read'], tid: 'contoso' } });
  });
  after(async () => {
    envoy?.close();
    await gh?.close();
    await issuer?.close();
  });

  const authorize = async (token: string, action: string, attributes: Record<string, string>) =>
    (await gh.client.authorize(token, action, { attributes })).response;

  it('Authorize: same token and action, two attribute values, two answers, in both orders', async () => {
    const action = '/orders.v1.Orders/GetOrder';
    const yes1 = await authorize(alice, action, { tenant: 'contoso' });
    const no1 = await authorize(alice, action, { tenant: 'fabrikam' });
    const yes2 = await authorize(alice, action, { tenant: 'contoso' });
    assert.equal(yes1.allowed, true);
    assert.equal(no1.allowed, false);
    assert.equal(no1.denial?.reason, 'CONDITION_NOT_MET');
    assert.match(no1.denial?.message ?? '', /rule tenant-orders is not met/);
    assert.equal(yes2.allowed, true);

    const other = '/orders.v1.Orders/ListOrders';
    const no3 = await authorize(alice, other, { tenant: 'fabrikam' });
    const yes3 = await authorize(alice, other, { tenant: 'contoso' });
    const no4 = await authorize(alice, other, { tenant: 'fabrikam' });
    assert.deepEqual([no3.allowed, yes3.allowed, no4.allowed], [false, true, false]);
    assert.ok((yes3.cacheFor?.seconds ?? 0) > 0 || (yes3.cacheFor?.nanos ?? 0) > 0, 'keyed by the attributes, so cacheable');
  });

  it('Authorize: a missing attribute denies, saying the condition could not be evaluated', async () => {
    const response = await authorize(alice, '/orders.v1.Orders/GetOrder', {});
    assert.equal(response.allowed, false);
    assert.equal(response.denial?.reason, 'CONDITION_NOT_MET');
    assert.match(response.denial?.message ?? '', /could not be evaluated: No such key: tenant/);
  });

  it('AuthorizeBatch passes the attributes to every action', async () => {
    const actions = ['/orders.v1.Orders/A', '/plain.v1.Plain/B'];
    const yes = (await gh.client.authorizeBatch(alice, actions, { attributes: { tenant: 'contoso' } })).response;
    const no = (await gh.client.authorizeBatch(alice, actions, { attributes: { tenant: 'x' } })).response;
    assert.deepEqual(
      yes.results.map((r) => r.allowed),
      [true, true],
    );
    assert.deepEqual(
      no.results.map((r) => r.denial?.reason ?? 'ALLOWED'),
      ['CONDITION_NOT_MET', 'ALLOWED'],
    );
  });

  it('a decision that read now is never cached and says cache_for 0', async () => {
    const first = await authorize(alice, '/clock.v1.Clock/Now', {});
    const second = await gh.client.authorize(alice, '/clock.v1.Clock/Now', { requestId: 'clock-2' });
    assert.equal(first.allowed, true);
    assert.equal(Number(first.cacheFor?.seconds ?? 0) + (first.cacheFor?.nanos ?? 0), 0);
    assert.equal(gh.logs.audit('clock-2')[0]?.cached, false);
    assert.equal(second.response.allowed, true);
  });

  it('Envoy: params from a named segment decide ownership, both orders', async () => {
    const check = async (path: string) => (await envoy.check({ path, headers: [['authorization', `Bearer ${alice}`]] })).status?.code ?? 0;
    assert.equal(await check('/users/alice/orders/1'), 0);
    assert.equal(await check('/users/bob/orders/1'), 7);
    assert.equal(await check('/users/alice/orders/1'), 0);
  });

  it('Envoy: request.headers holds lower-cased headers but never authorization; the cache keys by them', async () => {
    const check = async (region: string) =>
      (
        await envoy.check({
          path: '/reports/q1',
          headers: [
            ['Authorization', `Bearer ${alice}`],
            ['X-Region', region],
          ],
        })
      ).status?.code ?? 0;
    assert.equal(await check('eu'), 0, 'allowed: x-region read, authorization absent');
    assert.equal(await check('us'), 7);
    assert.equal(await check('eu'), 0);
  });

  it('Envoy: context_extensions are the attributes', async () => {
    const check = async (zone: string) =>
      (await envoy.check({ path: '/route/x', headers: [['authorization', `Bearer ${alice}`]], contextExtensions: { zone } })).status
        ?.code ?? 0;
    assert.equal(await check('blue'), 0);
    assert.equal(await check('red'), 7);
  });

  it('forward auth: the forwarded request and named segments', async () => {
    const ask = (uri: string, extra: [string, string][] = []) =>
      rawRequest(gh.gatehouse.httpPort, 'GET', '/v1/authz', [
        ['X-Original-Method', 'GET'],
        ['X-Original-URI', uri],
        ['Authorization', `Bearer ${alice}`],
        ...extra,
      ]);
    assert.equal((await ask('/users/alice/orders/9')).status, 200);
    const denied = await ask('/users/bob/orders/9');
    assert.equal(denied.status, 403);
    assert.equal(denied.header('x-gatehouse-reason'), 'CONDITION_NOT_MET');
    assert.equal((await ask('/reports/q1', [['X-Region', 'eu']])).status, 200);
    assert.equal((await ask('/reports/q1', [['X-Region', 'us']])).status, 403);
  });
});

describe('question keys cannot be spelled by an action', () => {
  it("an action written as another question's key gets its own decision, never that cached one", () => {
    const policy = compileRules([{ id: 'mine', actions: ['orders:read'], when: 'attributes.tenant == "t1"' }] as never, {}, []);
    const real = questionKey(policy, 'orders:read', { attributes: { tenant: 't1' } });
    assert.ok(real);
    assert.notEqual(questionKey(policy, real, {}), real);
    assert.notEqual(questionKey(policy, real, { attributes: { tenant: 't1' } }), real);
  });
});
