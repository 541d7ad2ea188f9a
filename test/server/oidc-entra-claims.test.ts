// Claims only Entra defines (`idtyp`, `appid`, `tid`, `hasgroups`) carry no weight on an OIDC issuer's token, end
// to end through the real gRPC server with the loopback OIDC issuer (which signs whatever claims the test sets).
// For OIDC an app token is one whose `sub` is its client (`client_id` or `azp`), as the README says.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { AuthorizeResponse } from '../../src/contract/messages.js';
import { startTestGatehouse, type TestGatehouse } from '../helpers/gatehouse.js';
import { LOOPBACK_AUDIENCE, startLoopbackIssuer, type LoopbackIssuer } from '../verification/loopback-issuer.js';

const RULES = [
  { id: 'jobs', actions: ['jobs:*'], app_only: true },
  { id: 'profile', actions: ['profile:read'], app_only: false },
];

function assertDenied(response: AuthorizeResponse, reason: string, rule: string): void {
  assert.equal(response.allowed, false);
  assert.equal(response.denial?.reason, reason);
  assert.equal(response.rule, rule);
}

describe('Entra-only claims on an OIDC token', () => {
  let issuer: LoopbackIssuer;
  let gh: TestGatehouse;

  before(async () => {
    issuer = await startLoopbackIssuer();
    gh = await startTestGatehouse({
      issuers: [{ id: 'partner', type: 'oidc', issuer: issuer.issuer, audiences: [LOOPBACK_AUDIENCE] }],
      rules: RULES,
    });
  });
  after(async () => {
    await gh?.close();
    await issuer?.close();
  });

  it('a user token claiming idtyp: app is still a user token: APP_ONLY_REQUIRED', async () => {
    const forged = issuer.token({ claims: { sub: 'alice', azp: 'web-app', scope: 'profile.read', idtyp: 'app' } });
    assertDenied((await gh.client.authorize(forged, 'jobs:run')).response, 'APP_ONLY_REQUIRED', 'jobs');
    const { response } = await gh.client.authorize(forged, 'profile:read');
    assert.equal(response.allowed, true);
    assert.equal(response.principal?.appOnly, false);
  });

  it('a user token whose Entra appid equals its sub is not an app token', async () => {
    const token = issuer.token({ claims: { sub: 'alice', appid: 'alice' } });
    assertDenied((await gh.client.authorize(token, 'jobs:run')).response, 'APP_ONLY_REQUIRED', 'jobs');
  });

  it('a client-credentials token claiming idtyp: user is still an app token: DELEGATED_REQUIRED', async () => {
    const token = issuer.token({ claims: { sub: 'orders', client_id: 'orders', idtyp: 'user' } });
    assertDenied((await gh.client.authorize(token, 'profile:read')).response, 'DELEGATED_REQUIRED', 'profile');
    assert.equal((await gh.client.authorize(token, 'jobs:run')).response.allowed, true);
  });

  it('tid and hasgroups are not read: no tenant, no groups overage', async () => {
    const token = issuer.token({ claims: { tid: '72f988bf-86f1-41af-91ab-2d7cd011db47', hasgroups: true } });
    const { response } = await gh.client.verify(token);
    assert.equal(response.valid, true);
    assert.equal(response.principal?.tenantId, '');
    assert.equal(response.principal?.groupsOverage, false);
  });
});
