// A reload during an identity provider outage keeps the last good keys: whether it changes only token settings
// (same key cache) or key settings (a new key cache that adopts the keys of unchanged issuers).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startEntraServer, type EntraServer } from '../helpers/entra-server.js';
import { startTestGatehouse, testConfig, type TestGatehouse } from '../helpers/gatehouse.js';

const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const AUD = 'api://orders';
const GET = '/orders.v1.Orders/GetOrder';

describe('reload during a provider outage', () => {
  let entra: EntraServer;
  let gh: TestGatehouse;
  const raw = (overrides: { clock_skew?: string; refresh_interval?: string } = {}) => ({
    issuers: [{ id: 'contoso', type: 'entra', tenant: TENANT, authority: entra.base, audiences: [AUD], token_versions: [2] }],
    keys: { fetch_timeout: '500ms', refresh_interval: overrides.refresh_interval ?? '1h' },
    tokens: { clock_skew: overrides.clock_skew ?? '60s' },
    rules: [{ id: 'read', actions: ['/orders.v1.Orders/*'], any_roles: ['Orders.Read'] }],
  });

  before(async () => {
    entra = await startEntraServer();
    gh = await startTestGatehouse(raw(), { level: 'silent' });
  });
  after(async () => {
    entra.setDown(false);
    await gh.close();
    await entra.close();
  });

  it('keeps serving with the last good keys across reloads of token and key settings', async () => {
    const token = () => entra.mint({ version: 2, tid: TENANT, aud: AUD, claims: { roles: ['Orders.Read'] } });
    const allowed = async () => (await gh.client.authorize(await token(), GET)).response;
    assert.equal((await allowed()).allowed, true, 'before the outage');
    entra.setDown(true);
    await gh.gatehouse.reload(testConfig(raw({ clock_skew: '61s' })));
    const afterTokens = await allowed();
    assert.equal(afterTokens.allowed, true, `after a tokens.* reload: ${afterTokens.denial?.reason}`);
    await gh.gatehouse.reload(testConfig(raw({ clock_skew: '61s', refresh_interval: '2h' })));
    const afterKeys = await allowed();
    assert.equal(afterKeys.allowed, true, `after a keys.* reload (new key cache): ${afterKeys.denial?.reason}`);
    assert.deepEqual(
      gh.gatehouse
        .authorizer()
        .verification.keyCache.status()
        .map((s) => [s.usable, s.stale]),
      [[true, true]],
      'usable, and reported stale (its refresh failed)',
    );
  });
});
