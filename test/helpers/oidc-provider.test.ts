import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { startOidcProvider, type TestOidcProvider } from './oidc-provider.js';

const API = 'https://api.gatehouse.test';

describe('test oidc-provider', () => {
  let op: TestOidcProvider;

  before(async () => {
    op = await startOidcProvider({
      clients: [
        {
          client_id: 'orders',
          client_secret: 'orders-secret',
          roles: ['orders.read', 'orders.write'],
          scope: 'api.read',
        },
        { client_id: 'billing', client_secret: 'billing-secret', token_endpoint_auth_method: 'client_secret_post' },
      ],
      resources: [API],
    });
  });
  after(() => op.close());

  it('serves discovery for its loopback issuer', async () => {
    const res = await fetch(`${op.issuer}/.well-known/openid-configuration`);
    assert.equal(res.status, 200);
    const doc = (await res.json()) as Record<string, unknown>;
    assert.match(op.issuer, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(doc.issuer, op.issuer);
    assert.equal(doc.token_endpoint, op.tokenEndpoint);
    assert.equal(doc.jwks_uri, op.jwksUri);
    assert.ok((doc.grant_types_supported as string[]).includes('client_credentials'));
  });

  it('issues an RFC 9068 JWT that verifies against its jwks_uri, with aud and roles', async () => {
    const token = await op.token({ clientId: 'orders', resource: API, scope: 'api.read' });
    assert.equal(decodeProtectedHeader(token).typ, 'at+jwt');
    const { payload } = await jwtVerify(token, createRemoteJWKSet(new URL(op.jwksUri)), {
      issuer: op.issuer,
      audience: API,
      algorithms: ['RS256'],
      typ: 'at+jwt',
    });
    assert.equal(payload.client_id, 'orders');
    assert.equal(payload.sub, 'orders');
    assert.equal(payload.scope, 'api.read');
    assert.deepEqual(payload.roles, ['orders.read', 'orders.write']);
    assert.equal((payload.exp ?? 0) - (payload.iat ?? 0), 3600);
  });

  it('accepts client_secret_post and rejects an unknown resource', async () => {
    const token = await op.token({ clientId: 'billing', resource: API });
    assert.equal(decodeProtectedHeader(token).alg, 'RS256');
    await assert.rejects(op.token({ clientId: 'billing', resource: 'https://other.test' }), /invalid_target/);
  });

  it('answers a plain fetch POST, and a rotated client secret replaces the old one', async () => {
    const post = (secret: string) =>
      fetch(op.tokenEndpoint, {
        method: 'POST',
        headers: { authorization: `Basic ${Buffer.from(`orders:${secret}`).toString('base64')}` },
        body: new URLSearchParams({ grant_type: 'client_credentials', resource: API }),
      });
    assert.equal((await post('orders-secret')).status, 200);
    await op.setClientSecret('orders', 'orders-secret-2');
    assert.equal((await post('orders-secret')).status, 401);
    const res = await post('orders-secret-2');
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { token_type: string }).token_type, 'Bearer');
  });

  it('rotateKeys publishes a new kid, drops the old one, and counts JWKS GETs', async () => {
    const jwks = async () => ((await (await fetch(op.jwksUri)).json()) as { keys: Array<{ kid: string }> }).keys;
    const before = op.jwksRequests();
    const [oldKey] = await jwks();
    assert.ok(oldKey);
    const oldToken = await op.token({ clientId: 'orders', resource: API });
    assert.equal(decodeProtectedHeader(oldToken).kid, oldKey.kid);

    await op.rotateKeys();
    const kids = (await jwks()).map((k) => k.kid);
    assert.equal(kids.length, 1);
    assert.notEqual(kids[0], oldKey.kid);
    assert.deepEqual(op.currentKids(), kids);
    assert.equal(op.jwksRequests(), before + 2);

    const newToken = await op.token({ clientId: 'orders', resource: API });
    assert.equal(decodeProtectedHeader(newToken).kid, kids[0]);
    const fresh = createRemoteJWKSet(new URL(op.jwksUri));
    await jwtVerify(newToken, fresh, { issuer: op.issuer, audience: API, algorithms: ['RS256'] });
    await assert.rejects(jwtVerify(oldToken, fresh, { algorithms: ['RS256'] }), { code: 'ERR_JWKS_NO_MATCHING_KEY' });
  });
});
