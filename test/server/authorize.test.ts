// Authorize and AuthorizeBatch end to end through the real gRPC server, with the rules of issue 3 and tokens
// from a real OpenID provider (app-only, client credentials) and the loopback Entra server (delegated and app).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { status, type ServiceError } from '@grpc/grpc-js';
import type { AuthorizeResponse, WireDuration } from '../../src/contract/messages.js';
import { startEntraServer, type EntraServer, type MintOptions } from '../helpers/entra-server.js';
import { startTestGatehouse, type TestGatehouse } from '../helpers/gatehouse.js';
import { parseExposition, valueOf } from '../telemetry/exposition.js';
import { startOidcProvider, type TestOidcProvider } from '../helpers/oidc-provider.js';

const API = 'https://api.gatehouse.test';
const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const ENTRA_AUD = 'api://orders';
const ADMINS_GROUP = '0b1c6e2a-0000-4000-8000-00000000000a';
const OTHER_GROUP = '0b1c6e2a-0000-4000-8000-00000000000b';
const OTHER_TENANT = '0b1e2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
const MAX_TTL_MS = 60_000;

const GET = '/orders.v1.Orders/GetOrder';
const UPDATE = '/orders.v1.Orders/UpdateOrder';
const DELETE = '/orders.v1.Orders/DeleteOrder';

const RULES = [
  { id: 'health', actions: ['/grpc.health.v1.Health/*'], public: true },
  { id: 'orders-read', actions: ['/orders.v1.Orders/Get*', '/orders.v1.Orders/List*'], any_roles: ['Orders.Read', 'Orders.Admin'] },
  { id: 'orders-write', actions: ['/orders.v1.Orders/Update*'], issuers: ['contoso'], all_scopes: ['orders.write'] },
  { id: 'orders-admin', actions: ['/orders.v1.Orders/Delete*'], issuers: ['contoso'], any_groups: ['orders-admins'] },
  { id: 'jobs', actions: ['jobs:*'], app_only: true },
  { id: 'profile', actions: ['profile:read'], app_only: false },
];

const ms = (d: WireDuration | null) => (d ? d.seconds * 1000 + d.nanos / 1e6 : NaN);

function assertDenied(response: AuthorizeResponse, reason: string, rule: string): void {
  assert.equal(response.allowed, false);
  assert.equal(response.denial?.reason, reason);
  assert.equal(response.rule, rule);
}

describe('Authorize over gRPC', () => {
  let op: TestOidcProvider;
  let entra: EntraServer;
  let gh: TestGatehouse;
  let reader: string; // app-only, roles [Orders.Read]
  const mint = (claims: Record<string, unknown>, opts: Partial<MintOptions> = {}) =>
    entra.mint({ version: 2, tid: TENANT, aud: ENTRA_AUD, claims, ...opts });

  before(async () => {
    [op, entra] = await Promise.all([
      startOidcProvider({
        clients: [
          { client_id: 'reader', client_secret: 's1', roles: ['Orders.Read'] },
          { client_id: 'writer', client_secret: 's2', roles: ['Orders.Write', 'orders.read', 'Orders.Read.All'] },
          { client_id: 'bare', client_secret: 's3' },
        ],
      }),
      startEntraServer(),
    ]);
    gh = await startTestGatehouse({
      issuers: [
        { id: 'partner', type: 'oidc', issuer: op.issuer, audiences: [API] },
        { id: 'contoso', type: 'entra', tenant: TENANT, authority: entra.base, audiences: [ENTRA_AUD] },
      ],
      groups: { [ADMINS_GROUP]: 'orders-admins' },
      rules: RULES,
      decisions: { max_ttl: `${MAX_TTL_MS}ms` },
    });
    reader = await op.token({ clientId: 'reader', resource: API });
  });
  after(async () => {
    await gh?.close();
    await Promise.all([op?.close(), entra?.close()]);
  });

  it('allows with the id of the deciding rule, the principal, and no denial', async () => {
    for (const action of [GET, '/orders.v1.Orders/ListOrders']) {
      const { response } = await gh.client.authorize(reader, action);
      assert.equal(response.allowed, true, action);
      assert.equal(response.rule, 'orders-read');
      assert.equal(response.denial, null);
      assert.equal(response.principal?.subject, 'reader');
      assert.equal(response.principal?.issuerId, 'partner');
    }
  });

  it('NO_MATCHING_RULE when no rule names the action', async () => {
    const { response } = await gh.client.authorize(reader, '/billing.v1.Billing/Pay');
    assertDenied(response, 'NO_MATCHING_RULE', '');
  });

  it('MISSING_ROLE: matching is exact, and the message names the roles required and those the token has', async () => {
    const writer = await op.token({ clientId: 'writer', resource: API });
    const { response } = await gh.client.authorize(writer, GET);
    assertDenied(response, 'MISSING_ROLE', 'orders-read');
    for (const role of ['Orders.Read', 'Orders.Admin', 'Orders.Write', 'orders.read', 'Orders.Read.All']) {
      assert.ok(response.denial?.message.includes(role), `message names ${role}`);
    }
    const bare = await op.token({ clientId: 'bare', resource: API });
    assertDenied((await gh.client.authorize(bare, GET)).response, 'MISSING_ROLE', 'orders-read');
  });

  it('MISSING_SCOPE for a delegated token without the required scope; allowed with it', async () => {
    assertDenied((await gh.client.authorize(await mint({ scp: 'orders.read' }), UPDATE)).response, 'MISSING_SCOPE', 'orders-write');
    const ok = (await gh.client.authorize(await mint({ scp: 'orders.read orders.write' }), UPDATE)).response;
    assert.equal(ok.allowed, true);
    assert.equal(ok.rule, 'orders-write');
  });

  it('MISSING_GROUP and GROUPS_OVERAGE; a mapped group id is allowed', async () => {
    const other = await mint({ scp: 'orders.read', groups: [OTHER_GROUP] });
    const denied = (await gh.client.authorize(other, DELETE)).response;
    assertDenied(denied, 'MISSING_GROUP', 'orders-admin');
    assert.ok(denied.denial?.message.includes('orders-admins'));

    const overage = await mint({ scp: 'orders.read', _claim_names: { groups: 'src1' }, _claim_sources: { src1: { endpoint: 'x' } } });
    assertDenied((await gh.client.authorize(overage, DELETE)).response, 'GROUPS_OVERAGE', 'orders-admin');

    const admin = await mint({ scp: 'orders.read', groups: [OTHER_GROUP, ADMINS_GROUP] });
    const ok = (await gh.client.authorize(admin, DELETE)).response;
    assert.equal(ok.allowed, true);
    assert.equal(ok.rule, 'orders-admin');
  });

  it('APP_ONLY_REQUIRED and DELEGATED_REQUIRED (scp present, idtyp, client credentials)', async () => {
    const delegated = await mint({ scp: 'profile.read' });
    assertDenied((await gh.client.authorize(delegated, 'jobs:run')).response, 'APP_ONLY_REQUIRED', 'jobs');
    assert.equal((await gh.client.authorize(delegated, 'profile:read')).response.allowed, true);

    assertDenied((await gh.client.authorize(reader, 'profile:read')).response, 'DELEGATED_REQUIRED', 'profile');
    assert.equal((await gh.client.authorize(reader, 'jobs:run')).response.allowed, true);

    const entraApp = await mint({ idtyp: 'app', roles: ['Jobs.Run'] });
    assert.equal((await gh.client.authorize(entraApp, 'jobs:run')).response.allowed, true);
    assertDenied((await gh.client.authorize(entraApp, 'profile:read')).response, 'DELEGATED_REQUIRED', 'profile');
  });

  it('ISSUER_NOT_ALLOWED_FOR_ACTION for a token from an issuer the rule does not name', async () => {
    assertDenied((await gh.client.authorize(reader, UPDATE)).response, 'ISSUER_NOT_ALLOWED_FOR_ACTION', 'orders-write');
  });

  it('token failures reuse the Verify reasons, with no principal and cache_for 0', async () => {
    const cases: [string, string][] = [
      ['', 'TOKEN_MISSING'],
      ['not-a-jwt', 'TOKEN_MALFORMED'],
      [await op.token({ clientId: 'reader', resource: 'https://other.test' }), 'AUDIENCE_MISMATCH'],
      [await mint({ roles: ['Orders.Read'] }, { now: Math.floor(Date.now() / 1000) - 7200 }), 'TOKEN_EXPIRED'],
      [await mint({ roles: ['Orders.Read'] }, { tid: OTHER_TENANT }), 'ISSUER_NOT_TRUSTED'],
    ];
    for (const [token, reason] of cases) {
      const { response } = await gh.client.authorize(token, GET);
      assertDenied(response, reason, '');
      assert.equal(response.principal, null);
      assert.equal(ms(response.cacheFor), 0, reason);
    }
  });

  it('a public rule needs no token', async () => {
    const { response } = await gh.client.authorize('', '/grpc.health.v1.Health/Check');
    assert.equal(response.allowed, true);
    assert.equal(response.rule, 'health');
    assert.equal(response.principal, null);
  });

  it('an empty action, or an empty batch, is INVALID_ARGUMENT', async () => {
    const invalid = (err: unknown) => (err as ServiceError).code === status.INVALID_ARGUMENT;
    await assert.rejects(gh.client.authorize(reader, ''), invalid);
    await assert.rejects(gh.client.authorizeBatch(reader, []), invalid);
    await assert.rejects(gh.client.authorizeBatch(reader, [GET, '']), invalid);
  });

  it('cache_for is never past the token expiry and never over decisions.max_ttl', async () => {
    const shortLived = await mint({ roles: ['Orders.Read'] }, { expiresIn: 20 });
    const soon = (await gh.client.authorize(shortLived, GET)).response;
    assert.equal(soon.allowed, true);
    assert.ok(ms(soon.cacheFor) > 15_000 && ms(soon.cacheFor) <= 20_000, `cache_for ${ms(soon.cacheFor)}`);
    const again = (await gh.client.authorize(shortLived, GET)).response;
    assert.ok(ms(again.cacheFor) <= ms(soon.cacheFor));

    const longLived = await mint({ roles: ['Orders.Read'] }, { expiresIn: 3600 });
    for (const action of [GET, UPDATE]) {
      const { response } = await gh.client.authorize(longLived, action);
      assert.ok(ms(response.cacheFor) > MAX_TTL_MS - 5000 && ms(response.cacheFor) <= MAX_TTL_MS, `${action} ${ms(response.cacheFor)}`);
    }
  });

  it('AuthorizeBatch: one verification, one decision per action in request order', async () => {
    const authorizer = gh.gatehouse.authorizer();
    // Every signature check looks up its key once (a hit or a miss): counted from gatehouse's own metrics.
    const keyLookups = async () => {
      const samples = parseExposition(await (await fetch(`http://127.0.0.1:${gh.gatehouse.httpPort}/metrics`)).text());
      return ['hit', 'miss'].reduce(
        (sum, result) => sum + (valueOf(samples, 'gatehouse_cache_lookups_total', { cache: 'key', result }) ?? 0),
        0,
      );
    };
    const lookupsBefore = await keyLookups();
    const verifications = async () => (await keyLookups()) - lookupsBefore;
    const token = await op.token({ clientId: 'reader', resource: API });
    const actions = [GET, '/orders.v1.Orders/ListOrders', UPDATE, 'jobs:run', 'profile:read', '/billing.v1.Billing/Pay'];
    const cachedBefore = authorizer.cachedDecisions;
    const first = await gh.client.authorizeBatch(token, [...actions, '/grpc.health.v1.Health/Check'], { requestId: 'batch-1' });
    assert.equal(await verifications(), 1);
    assert.equal(authorizer.cachedDecisions - cachedBefore, actions.length);
    assert.deepEqual(
      first.response.results.map((r) => [r.allowed, r.rule, r.denial?.reason ?? '']),
      [
        [true, 'orders-read', ''],
        [true, 'orders-read', ''],
        [false, 'orders-write', 'ISSUER_NOT_ALLOWED_FOR_ACTION'],
        [true, 'jobs', ''],
        [false, 'profile', 'DELEGATED_REQUIRED'],
        [false, '', 'NO_MATCHING_RULE'],
        [true, 'health', ''],
      ],
    );
    const audit = gh.logs.audit('batch-1');
    assert.deepEqual(
      audit.map((line) => line.action),
      [...actions, '/grpc.health.v1.Health/Check'],
    );

    const second = await gh.client.authorizeBatch(token, actions, { requestId: 'batch-2' });
    assert.equal(await verifications(), 1, 'every decision came from the cache');
    assert.ok(gh.logs.audit('batch-2').every((line) => line.cached === true));
    assert.deepEqual(
      second.response.results.map((r) => r.rule),
      first.response.results.slice(0, actions.length).map((r) => r.rule),
    );

    const refused = await gh.client.authorizeBatch('not-a-jwt', actions);
    assert.equal(await verifications(), 1, 'a malformed token is refused before any key lookup');
    assert.ok(refused.response.results.every((r) => !r.allowed && r.denial?.reason === 'TOKEN_MALFORMED'));
  });
});
