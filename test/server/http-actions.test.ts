// HTTP actions through the real engine over gRPC Authorize: rules written as "<METHOD> <path>" decide plain HTTP
// requests, and a non-canonical path is PATH_NOT_CANONICAL (audited), never matched, even by a public rule.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestGatehouse, type TestGatehouse } from '../helpers/gatehouse.js';
import { LOOPBACK_AUDIENCE, startLoopbackIssuer, type LoopbackIssuer } from '../verification/loopback-issuer.js';

describe('HTTP actions over Authorize', () => {
  let issuer: LoopbackIssuer;
  let gh: TestGatehouse;

  before(async () => {
    issuer = await startLoopbackIssuer();
    gh = await startTestGatehouse({
      issuers: [{ id: 'idp', type: 'oidc', issuer: issuer.issuer, audiences: [LOOPBACK_AUDIENCE] }],
      rules: [
        { id: 'health', actions: ['* /health'], public: true },
        { id: 'orders-delete', actions: ['DELETE /orders/*'], any_roles: ['Orders.Admin'] },
        { id: 'orders-read', actions: ['GET /orders/*', 'GET /orders/*/items'], any_roles: ['Orders.Read'] },
        { id: 'public-pages', actions: ['GET /*'], public: true },
      ],
    });
  });
  after(async () => {
    await gh?.close();
    await issuer?.close();
  });

  it('decides by method and path: roles per rule, public rules without a token', async () => {
    const reader = issuer.token({ claims: { roles: ['Orders.Read'] } });
    const decide = async (token: string, action: string) => (await gh.client.authorize(token, action)).response;
    assert.equal((await decide(reader, 'GET /orders/42')).rule, 'orders-read');
    assert.equal((await decide(reader, 'GET /orders/42')).allowed, true);
    assert.equal((await decide(reader, 'GET /orders/42/items')).allowed, true);
    const deleted = await decide(reader, 'DELETE /orders/42');
    assert.equal(deleted.allowed, false);
    assert.equal(deleted.denial?.reason, 'MISSING_ROLE');
    assert.equal(deleted.rule, 'orders-delete');
    assert.equal((await decide('', 'POST /health')).allowed, true);
    assert.equal((await decide('', 'GET /about')).rule, 'public-pages');
    const unmatched = await decide(reader, 'PUT /orders/42');
    assert.equal(unmatched.denial?.reason, 'NO_MATCHING_RULE');
  });

  it('a non-canonical path is PATH_NOT_CANONICAL, never matched by /orders/* nor by the public GET /*', async () => {
    const admin = issuer.token({ claims: { roles: ['Orders.Read', 'Orders.Admin'] } });
    for (const action of ['GET /orders/../admin', 'GET /orders/..%2fadmin', 'GET /%61dmin', 'GET //admin', 'GET /orders\\..\\admin']) {
      const { response } = await gh.client.authorize(admin, action, { requestId: `canon-${action.length}` });
      assert.equal(response.allowed, false, action);
      assert.equal(response.denial?.reason, 'PATH_NOT_CANONICAL', action);
      assert.equal(response.rule, '', action);
      const [audit] = gh.logs.audit(`canon-${action.length}`);
      assert.equal(audit?.reason, 'PATH_NOT_CANONICAL');
      assert.equal(audit?.allowed, false);
    }
  });
});
