// server.forward_auth: false takes /v1/authz off the HTTP listener (which then serves only probes and metrics), so
// a gatehouse whose gRPC callers must present client certificates gives no decisions on a plaintext port.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestGatehouse, type TestGatehouse } from '../helpers/gatehouse.js';
import { rawRequest } from '../helpers/raw-http.js';
import { LOOPBACK_AUDIENCE, startLoopbackIssuer, type LoopbackIssuer } from '../verification/loopback-issuer.js';

describe('server.forward_auth: false', () => {
  let issuer: LoopbackIssuer;
  let gh: TestGatehouse;
  before(async () => {
    issuer = await startLoopbackIssuer();
    gh = await startTestGatehouse({
      server: { forward_auth: false },
      issuers: [{ id: 'idp', type: 'oidc', issuer: issuer.issuer, audiences: [LOOPBACK_AUDIENCE] }],
      rules: [{ id: 'orders', actions: ['GET /orders/*', 'orders:read'], issuers: ['idp'] }],
    });
  });
  after(async () => {
    await gh.close();
    await issuer.close();
  });

  it('answers /v1/authz 404 with a valid token, while probes, metrics and gRPC still answer', async () => {
    const forward = await rawRequest(gh.gatehouse.httpPort, 'GET', '/v1/authz', [
      ['X-Original-Method', 'GET'],
      ['X-Original-URI', '/orders/1'],
      ['Authorization', `Bearer ${issuer.token()}`],
    ]);
    assert.equal(forward.status, 404);
    assert.equal(forward.header('x-gatehouse-subject'), undefined);
    for (const path of ['/healthz', '/readyz', '/metrics']) {
      assert.equal((await fetch(`http://127.0.0.1:${gh.gatehouse.httpPort}${path}`)).status, 200, path);
    }
    assert.equal((await gh.client.authorize(issuer.token(), 'orders:read')).response.allowed, true);
  });
});
