import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import { compilePolicy } from '../../src/decisions/create-authorizer.js';
import { devConfig } from '../../src/dev/dev-config.js';
import { DEV_TENANT_ID, startDevIssuer, type DevIssuer } from '../../src/dev/dev-issuer.js';

describe('dev issuer', () => {
  let issuer: DevIssuer;
  before(async () => {
    issuer = await startDevIssuer({ port: 0 });
  });
  after(() => issuer.close());

  const jwks = async () => createLocalJWKSet((await (await fetch(`${issuer.url}/jwks`)).json()) as JSONWebKeySet);
  const tokenRequest = (form: Record<string, string>, headers: Record<string, string> = {}) =>
    fetch(`${issuer.url}/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams(form),
    });
  const basic = (id: string, secret: string) => ({ authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}` });

  it('refuses to start with NODE_ENV=production, even when embedded', async () => {
    await assert.rejects(startDevIssuer({ port: 0 }, { NODE_ENV: 'production' }), /NODE_ENV=production/);
  });

  it('binds loopback and serves discovery naming its endpoints', async () => {
    assert.match(issuer.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const doc = (await (await fetch(`${issuer.url}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    assert.equal(doc.issuer, issuer.url);
    assert.equal(doc.jwks_uri, `${issuer.url}/jwks`);
    assert.equal(doc.token_endpoint, `${issuer.url}/oauth2/token`);
  });

  it('POST /mint signs an RS256 token with the kid of its JWKS and Entra-shaped claims', async () => {
    const res = await fetch(`${issuer.url}/mint`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sub: 'alice', roles: ['Orders.Read'], scopes: ['a', 'b'], groups: ['g1'], ttlSeconds: 600 }),
    });
    assert.equal(res.status, 200);
    const { token } = (await res.json()) as { token: string };
    const { payload, protectedHeader } = await jwtVerify(token, await jwks(), {
      issuer: issuer.url,
      audience: 'api://orders',
      algorithms: ['RS256'],
    });
    assert.ok(protectedHeader.kid);
    assert.equal(payload.sub, 'alice');
    assert.equal(payload.oid, 'alice');
    assert.equal(payload.scp, 'a b');
    assert.deepEqual(payload.roles, ['Orders.Read']);
    assert.deepEqual(payload.groups, ['g1']);
    assert.equal(payload.tid, DEV_TENANT_ID);
    assert.equal(payload.idtyp, 'user');
    assert.equal(payload.exp! - payload.iat!, 600);
    assert.equal(payload.nbf, payload.iat);
  });

  it('refuses a mint without a JSON content type, or with a bad body, saying which field', async () => {
    const plain = await fetch(`${issuer.url}/mint`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{"sub":"a"}' });
    assert.equal(plain.status, 415);
    const bad = await fetch(`${issuer.url}/mint`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sub: 'a', roles: 'Orders.Read' }),
    });
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { error_description: string }).error_description, /^roles: /);
  });

  it('refuses a request whose Host is not loopback (DNS rebinding)', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${issuer.url}/jwks`, { headers: { host: 'attacker.example' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject).end();
    });
    assert.equal(status, 403);
  });

  it('client credentials: basic or post auth, scope RESOURCE/.default gives an app token for RESOURCE', async () => {
    for (const [form, headers] of [
      [{ grant_type: 'client_credentials', scope: 'api://orders/.default' }, basic('storefront', 'storefront-secret')],
      [
        { grant_type: 'client_credentials', scope: 'api://orders/.default', client_id: 'storefront', client_secret: 'storefront-secret' },
        {},
      ],
    ] as const) {
      const res = await tokenRequest(form, headers);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('cache-control'), 'no-store');
      const body = (await res.json()) as { access_token: string; token_type: string; expires_in: number };
      assert.equal(body.token_type, 'Bearer');
      assert.equal(body.expires_in, 3600);
      const { payload } = await jwtVerify(body.access_token, await jwks(), { issuer: issuer.url, audience: 'api://orders' });
      assert.equal(payload.sub, 'storefront');
      assert.equal(payload.azp, 'storefront');
      assert.equal(payload.idtyp, 'app');
      assert.deepEqual(payload.roles, ['Orders.Read']);
      assert.equal(payload.scp, undefined);
      assert.equal(decodeProtectedHeader(body.access_token).alg, 'RS256');
    }
  });

  it('client credentials errors follow RFC 6749', async () => {
    const cases: { form: Record<string, string>; headers: Record<string, string>; status: number; error: string }[] = [
      {
        form: { grant_type: 'client_credentials', scope: 'api://orders/.default' },
        headers: basic('storefront', 'nope'),
        status: 401,
        error: 'invalid_client',
      },
      {
        form: { grant_type: 'client_credentials', scope: 'api://orders/.default' },
        headers: basic('nobody', 'x'),
        status: 401,
        error: 'invalid_client',
      },
      {
        form: { grant_type: 'password', scope: 'api://orders/.default' },
        headers: basic('storefront', 'storefront-secret'),
        status: 400,
        error: 'unsupported_grant_type',
      },
      {
        form: { grant_type: 'client_credentials', scope: 'api://orders' },
        headers: basic('storefront', 'storefront-secret'),
        status: 400,
        error: 'invalid_scope',
      },
      {
        form: { grant_type: 'client_credentials', scope: 'api://orders/.default', client_secret: 'storefront-secret' },
        headers: basic('storefront', 'storefront-secret'),
        status: 400,
        error: 'invalid_request',
      },
    ];
    for (const { form, headers, status, error } of cases) {
      const res = await tokenRequest(form, headers);
      assert.equal(res.status, status, error);
      assert.equal(((await res.json()) as { error: string }).error, error);
      if (status === 401) assert.match(res.headers.get('www-authenticate') ?? '', /^Basic/);
    }
  });
});

describe('dev config', () => {
  it('is a valid config whose rules compile, for the given issuer and addresses', () => {
    const config = devConfig({ issuerUrl: 'http://127.0.0.1:9400', grpc: '127.0.0.1:0', http: '127.0.0.1:0' });
    assert.equal(config.issuers[0]?.id, 'dev');
    assert.deepEqual(config.issuers[0]?.audiences, ['api://orders']);
    assert.deepEqual(
      compilePolicy(config).rules.map((r) => r.id),
      ['health', 'orders-read', 'orders-write', 'http-health', 'orders-http-read', 'orders-http-write'],
    );
    assert.ok(Object.isFrozen(config));
  });
});
