// Verify end to end through the real gRPC server: tokens from a real OpenID provider and from the loopback
// Entra server, size limits, health and reflection, graceful shutdown, and request ids.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { credentials, makeClientConstructor, status, type Client, type ServiceError } from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { fromStruct } from '../../src/contract/struct.js';
import { DEFAULT_OBJECT_ID, startEntraServer, type EntraServer } from '../helpers/entra-server.js';
import { startTestGatehouse, until, type TestGatehouse } from '../helpers/gatehouse.js';
import { startOidcProvider, type TestOidcProvider } from '../helpers/oidc-provider.js';
import { listServices } from '../helpers/reflection.js';
import { parseExposition, valueOf } from '../telemetry/exposition.js';

const API = 'https://api.gatehouse.test';
const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const ENTRA_AUD = 'api://orders';

interface HealthClient extends Client {
  Check(request: { service: string }, callback: (err: ServiceError | null, response?: { status: string }) => void): void;
}

const isRpcError = (code: status) => (err: unknown) => (err as ServiceError).code === code;

describe('Verify over gRPC', () => {
  let op: TestOidcProvider;
  let entra: EntraServer;
  let gh: TestGatehouse;
  /** Moved past the unknown-kid cooldown where a test needs a refetch at once (well within clock_skew). */
  let clockOffsetMs = 0;

  before(async () => {
    [op, entra] = await Promise.all([
      startOidcProvider({ clients: [{ client_id: 'orders', client_secret: 's', roles: ['Orders.Read'], scope: 'orders.read' }] }),
      startEntraServer(),
    ]);
    gh = await startTestGatehouse(
      {
        server: { max_message_bytes: 4096 },
        issuers: [
          { id: 'partner', type: 'oidc', issuer: op.issuer, audiences: [API] },
          { id: 'contoso', type: 'entra', tenant: TENANT, authority: entra.base, audiences: [ENTRA_AUD] },
        ],
        keys: { unknown_kid_cooldown: '1s' },
        tokens: { max_bytes: 2048 },
      },
      { clock: () => Date.now() + clockOffsetMs },
    );
  });
  after(async () => {
    await gh?.close();
    await Promise.all([op?.close(), entra?.close()]);
  });

  it('verifies a provider token: principal fields, claims Struct, expires_at', async () => {
    const token = await op.token({ clientId: 'orders', resource: API, scope: 'orders.read' });
    const { response } = await gh.client.verify(token);
    assert.equal(response.valid, true);
    assert.equal(response.denial, null);
    const p = response.principal!;
    assert.equal(p.issuer, op.issuer);
    assert.equal(p.issuerId, 'partner');
    assert.equal(p.subject, 'orders');
    assert.equal(p.clientId, 'orders');
    assert.deepEqual(p.roles, ['Orders.Read']);
    assert.deepEqual(p.scopes, ['orders.read']);
    assert.equal(p.appOnly, true, 'a client-credentials token is app-only');
    assert.equal(p.tokenVersion, '');
    const claims = decodeJwt(token);
    assert.deepEqual(p.expiresAt, { seconds: claims.exp, nanos: 0 });
    const wireClaims = fromStruct(p.claims);
    assert.equal(wireClaims.aud, API);
    assert.equal(wireClaims.iss, op.issuer);
    assert.deepEqual(wireClaims.roles, ['Orders.Read']);
  });

  it('refuses a token for another audience as a value: OK status, AUDIENCE_MISMATCH', async () => {
    const token = await op.token({ clientId: 'orders', resource: 'https://other.test' });
    const { response } = await gh.client.verify(token);
    assert.equal(response.valid, false);
    assert.equal(response.principal, null);
    assert.equal(response.denial?.reason, 'AUDIENCE_MISMATCH');
  });

  it('after the provider rotates its key, a new token (new kid) verifies and the old one is refused', async () => {
    const oldToken = await op.token({ clientId: 'orders', resource: API });
    assert.equal((await gh.client.verify(oldToken)).response.valid, true);
    await op.rotateKeys();
    clockOffsetMs += 1000;
    const newToken = await op.token({ clientId: 'orders', resource: API });
    assert.notEqual(decodeProtectedHeader(newToken).kid, decodeProtectedHeader(oldToken).kid);
    const fresh = await gh.client.verify(newToken);
    assert.equal(fresh.response.valid, true);
    const stale = await gh.client.verify(oldToken);
    assert.equal(stale.response.valid, false);
    assert.equal(stale.response.denial?.reason, 'KEY_NOT_FOUND');
  });

  it('accepts a "Bearer " prefix in any case', async () => {
    const token = await op.token({ clientId: 'orders', resource: API });
    assert.equal((await gh.client.verify(`Bearer ${token}`)).response.valid, true);
    assert.equal((await gh.client.verify(`bEaReR ${token}`)).response.valid, true);
  });

  it('an empty token is TOKEN_MISSING', async () => {
    for (const token of ['', '   ']) {
      const { response } = await gh.client.verify(token);
      assert.equal(response.valid, false);
      assert.equal(response.denial?.reason, 'TOKEN_MISSING', JSON.stringify(token));
    }
  });

  it('a request over server.max_message_bytes is an RPC error; a token over tokens.max_bytes is TOKEN_TOO_LARGE', async () => {
    await assert.rejects(
      gh.client.verify('x'.repeat(5000)),
      (err: ServiceError) => err.code === status.INVALID_ARGUMENT && /server\.max_message_bytes/.test(err.details),
    );
    await assert.rejects(
      gh.client.verify('é'.repeat(2100)),
      (err: ServiceError) => err.code === status.INVALID_ARGUMENT,
      'bytes, not characters',
    );
    const { response } = await gh.client.verify('x'.repeat(3000));
    assert.equal(response.valid, false);
    assert.equal(response.denial?.reason, 'TOKEN_TOO_LARGE');
  });

  it('verifies Entra v2 and v1 tokens from the loopback authority', async () => {
    const v2 = await entra.mint({ version: 2, tid: TENANT, aud: ENTRA_AUD, claims: { scp: 'orders.read', azp: 'spa-client' } });
    const r2 = (await gh.client.verify(v2)).response;
    assert.equal(r2.valid, true);
    assert.equal(r2.principal?.issuerId, 'contoso');
    assert.equal(r2.principal?.issuer, `https://login.microsoftonline.com/${TENANT}/v2.0`);
    assert.equal(r2.principal?.tokenVersion, '2.0');
    assert.equal(r2.principal?.tenantId, TENANT);
    assert.equal(r2.principal?.objectId, DEFAULT_OBJECT_ID);
    assert.equal(r2.principal?.clientId, 'spa-client');
    assert.deepEqual(r2.principal?.scopes, ['orders.read']);
    assert.equal(r2.principal?.appOnly, false);

    const v1 = await entra.mint({ version: 1, tid: TENANT, aud: ENTRA_AUD, claims: { appid: 'daemon', roles: ['Orders.Admin'] } });
    const r1 = (await gh.client.verify(v1)).response;
    assert.equal(r1.valid, true);
    assert.equal(r1.principal?.issuer, `https://sts.windows.net/${TENANT}/`);
    assert.equal(r1.principal?.tokenVersion, '1.0');
    assert.equal(r1.principal?.clientId, 'daemon');
    assert.deepEqual(r1.principal?.roles, ['Orders.Admin']);
    assert.equal(r1.principal?.appOnly, true);
  });

  it('echoes the x-request-id given, and generates one when absent', async () => {
    const given = await gh.client.verify('', { requestId: 'req-verify-42' });
    assert.deepEqual(given.metadata.get('x-request-id'), ['req-verify-42']);
    const generated = await gh.client.verify('');
    const [id] = generated.metadata.get('x-request-id');
    assert.equal(typeof id, 'string');
    assert.match(String(id), /^[0-9a-f-]{36}$/);
    const again = (await gh.client.verify('')).metadata.get('x-request-id')[0];
    assert.notEqual(again, id);
  });

  it('serves grpc.health.v1 (SERVING) and lists gatehouse.v1.AuthService by reflection', async () => {
    const Health = makeClientConstructor(healthService, 'grpc.health.v1.Health');
    const health = new Health(gh.address, credentials.createInsecure()) as unknown as HealthClient;
    try {
      for (const name of ['', 'gatehouse.v1.AuthService']) {
        const res = await new Promise<{ status: string }>((resolve, reject) =>
          health.Check({ service: name }, (err, r) => (err || !r ? reject(err) : resolve(r))),
        );
        assert.equal(res.status, 'SERVING', name);
      }
    } finally {
      health.close();
    }
    assert.ok((await listServices(gh.address)).includes('gatehouse.v1.AuthService'));
  });
});

describe('Verify during shutdown', () => {
  let op: TestOidcProvider;
  let gh: TestGatehouse;
  let releaseKeys: () => void = () => {};

  before(async () => {
    op = await startOidcProvider();
    const keysReleased = new Promise<void>((resolve) => (releaseKeys = resolve));
    // A cold cache whose JWKS answer is held back: the first Verify waits on it, in flight.
    const slowFetch: typeof fetch = async (input, init) => {
      if (String(input) === op.jwksUri) await keysReleased;
      return fetch(input, init);
    };
    gh = await startTestGatehouse(
      { server: { shutdown_grace: '5s' }, issuers: [{ id: 'partner', type: 'oidc', issuer: op.issuer, audiences: [API] }] },
      { fetch: slowFetch, waitForKeys: false },
    );
  });
  after(async () => {
    releaseKeys();
    await gh?.close();
    await op?.close();
  });

  it('refuses new calls with UNAVAILABLE while an in-flight call completes', async () => {
    const token = await op.token({ resource: API });
    const inFlight = gh.client.verify(token);
    // No headers arrive before the answer (so a client may retry a refusal elsewhere): watch the server's count.
    const started = async () =>
      valueOf(parseExposition((await gh.gatehouse.metrics.exposition()).body), 'grpc_server_started_total', { grpc_method: 'Verify' }) ===
      1;
    await until(started, 'the Verify call to reach the server');

    const stopped = gh.shutdown();
    await assert.rejects(gh.client.verify(token, { deadlineMs: 3000 }), isRpcError(status.UNAVAILABLE));
    releaseKeys();
    const { response } = await inFlight;
    assert.equal(response.valid, true);
    await stopped;
  });
});
