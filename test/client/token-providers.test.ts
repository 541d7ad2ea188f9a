// Token providers against real token endpoints: oidc-provider (client secrets, a secret rotated on disk, a
// certificate client with private_key_jwt) and the dev issuer (Entra's `scope=api://orders/.default`).
// Time is faked through the provider's clock; token requests are counted by the fetch the provider is given.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createHash, X509Certificate } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import {
  clientCredentials,
  createAuthClient,
  createClientInterceptor,
  createServerInterceptor,
  type AuthClient,
} from '../../src/client/index.js';
import { startDevIssuer, type DevIssuer } from '../../src/dev/dev-issuer.js';
import { startOidcProvider } from '../helpers/oidc-provider.js';
import { Echo, startEchoServer, type EchoServer } from './fixtures/echo-service.js';
import { API, startWorld, type World } from './fixtures/world.js';

/** A test-only client certificate and its key (made with openssl; not a secret of anything). */
const CERT_FILE = new URL('./fixtures/client-cert.pem', import.meta.url).pathname;
const KEY_FILE = new URL('./fixtures/client-key.pem', import.meta.url).pathname;
const CERT_CLIENT_ID = 'cert-client';

/** A fetch that counts token requests and keeps their bodies. */
function countingFetch() {
  const bodies: URLSearchParams[] = [];
  const fn: typeof fetch = async (input, init) => {
    bodies.push(new URLSearchParams(String(init?.body ?? '')));
    return fetch(input, init);
  };
  return { fetch: fn, bodies, count: () => bodies.length };
}

describe('token providers', () => {
  let world: World;
  let authClient: AuthClient;
  let server: EchoServer;
  let dir: string;

  before(async () => {
    world = await startWorld();
    authClient = createAuthClient({ address: world.gatehouseAddress });
    server = await startEchoServer([createServerInterceptor({ authClient })]);
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-client-'));
  });
  after(async () => {
    authClient.close();
    await server.close();
    await world.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('client credentials: keeps the token, refreshes before expiry with ONE request under 50 concurrent calls', async () => {
    let now = Date.now();
    const counter = countingFetch();
    const provider = clientCredentials({
      tokenEndpoint: world.op.tokenEndpoint,
      clientId: 'reader',
      clientSecret: 'reader-secret',
      resource: API,
      refreshSkewMs: 60_000,
      fetch: counter.fetch,
      clock: () => now,
    });
    const echo = new Echo(server.address, [createClientInterceptor({ token: provider })]);
    try {
      await Promise.all(Array.from({ length: 50 }, (_, i) => echo.unary('Say', `first-${i}`)));
      assert.equal(counter.count(), 1, 'one request for 50 concurrent first calls');
      const first = await provider.getToken();
      assert.equal(decodeJwt(first).client_id, 'reader');

      now += 3600_000 - 59_000; // inside the refresh skew, the token still valid
      const said = await Promise.all(Array.from({ length: 50 }, (_, i) => echo.unary('Say', `second-${i}`)));
      assert.equal(counter.count(), 2, 'exactly one refresh for 50 concurrent calls');
      assert.ok(said.every((s) => s.subject === 'reader'));
      const second = await provider.getToken();
      assert.notEqual(second, first);
      assert.equal(said[0]!.authorization, `Bearer ${second}`, 'the calls carried the refreshed token');

      await Promise.all(Array.from({ length: 10 }, () => echo.unary('Say', 'third')));
      assert.equal(counter.count(), 2, 'the refreshed token is kept');
      assert.equal(counter.bodies[0]!.get('grant_type'), 'client_credentials');
      assert.equal(counter.bodies[0]!.get('resource'), API);
    } finally {
      echo.close();
    }
  });

  it('client secret from a file: a secret rotated on disk is picked up at the next token request', async () => {
    const file = join(dir, 'client-secret');
    await writeFile(file, 'nobody-secret\n');
    let now = Date.now();
    const provider = clientCredentials({
      tokenEndpoint: world.op.tokenEndpoint,
      clientId: 'nobody',
      clientSecret: { file },
      secretAuthMethod: 'client_secret_basic',
      resource: API,
      clock: () => now,
    });
    const before = await provider.getToken();

    await world.op.setClientSecret('nobody', 'nobody-secret-2'); // the old secret stops working at once
    const stale = clientCredentials({
      tokenEndpoint: world.op.tokenEndpoint,
      clientId: 'nobody',
      clientSecret: 'nobody-secret',
      resource: API,
    });
    await assert.rejects(stale.getToken(), { code: 'ERR_TOKEN_REQUEST_REFUSED', oauthError: 'invalid_client' });
    await writeFile(file, 'nobody-secret-2\n');

    assert.equal(await provider.getToken(), before, 'a kept token needs no secret');
    now += 3600_000; // the kept token is due
    const after = await provider.getToken();
    assert.notEqual(after, before);
    assert.equal(decodeJwt(after).client_id, 'nobody');
  });

  it('certificate credential: a private_key_jwt assertion accepted by oidc-provider, shaped as Entra wants', async () => {
    const cert = new X509Certificate(await readFile(CERT_FILE));
    const op = await startOidcProvider({
      clients: [{ client_id: CERT_CLIENT_ID, jwks: { keys: [{ ...cert.publicKey.export({ format: 'jwk' }), use: 'sig' }] } }],
      resources: [API],
    });
    try {
      const counter = countingFetch();
      const provider = clientCredentials({
        tokenEndpoint: op.tokenEndpoint,
        clientId: CERT_CLIENT_ID,
        resource: API,
        certificate: { certificate: { file: CERT_FILE }, privateKey: await readFile(KEY_FILE, 'utf8') },
        fetch: counter.fetch,
      });
      const token = await provider.getToken();
      assert.deepEqual([decodeJwt(token).sub, decodeJwt(token).iss, decodeJwt(token).aud], [CERT_CLIENT_ID, op.issuer, API]);

      const body = counter.bodies[0]!;
      assert.equal(body.get('client_assertion_type'), 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
      assert.equal(body.get('client_secret'), null);
      const assertion = body.get('client_assertion')!;
      const header = decodeProtectedHeader(assertion);
      const der = new X509Certificate(await readFile(CERT_FILE)).raw;
      assert.equal(header.alg, 'RS256');
      assert.equal(header['x5t#S256'], createHash('sha256').update(der).digest('base64url'));
      assert.equal(header.x5t, createHash('sha1').update(der).digest('base64url'));
      const claims = decodeJwt(assertion);
      assert.deepEqual([claims.iss, claims.sub, claims.aud], [CERT_CLIENT_ID, CERT_CLIENT_ID, op.tokenEndpoint]);
      assert.ok(typeof claims.jti === 'string' && claims.jti.length > 0);
      assert.ok(claims.exp! - claims.iat! <= 300, 'a short-lived assertion');

      provider.invalidate();
      await provider.getToken(); // a second assertion: oidc-provider refuses a replayed jti, so it is fresh
      assert.notEqual(decodeJwt(counter.bodies[1]!.get('client_assertion')!).jti, claims.jti);
    } finally {
      await op.close();
    }
  });

  it('Entra v2 style against the dev issuer: scope=api://orders/.default, secret posted in the form', async () => {
    const dev: DevIssuer = await startDevIssuer({ port: 0 });
    try {
      const counter = countingFetch();
      const provider = clientCredentials({
        tokenEndpoint: `${dev.url}/oauth2/token`,
        clientId: 'storefront',
        clientSecret: 'storefront-secret',
        secretAuthMethod: 'client_secret_post',
        scope: 'api://orders/.default',
        fetch: counter.fetch,
      });
      const claims = decodeJwt(await provider.getToken());
      assert.deepEqual([claims.aud, claims.sub, claims.roles], ['api://orders', 'storefront', ['Orders.Read']]);
      assert.equal(counter.bodies[0]!.get('scope'), 'api://orders/.default');
      assert.equal(counter.bodies[0]!.get('client_id'), 'storefront');
    } finally {
      await dev.close();
    }
  });

  it('coded failures: refused, unreachable, unsafe options; a failed refresh falls back to the still-valid token', async () => {
    const refused = clientCredentials({ tokenEndpoint: world.op.tokenEndpoint, clientId: 'reader', clientSecret: 'wrong', resource: API });
    await assert.rejects(refused.getToken(), { code: 'ERR_TOKEN_REQUEST_REFUSED', oauthError: 'invalid_client' });
    const closed = clientCredentials({ tokenEndpoint: 'http://127.0.0.1:1/token', clientId: 'x', clientSecret: 's' });
    await assert.rejects(closed.getToken(), { code: 'ERR_TOKEN_ENDPOINT_UNAVAILABLE' });
    await assert.rejects(
      clientCredentials({ tokenEndpoint: world.op.tokenEndpoint, clientId: 'x', clientSecret: { file: join(dir, 'absent') } }).getToken(),
      { code: 'ERR_CLIENT_CREDENTIAL_UNREADABLE' },
    );
    assert.throws(() => clientCredentials({ tokenEndpoint: 'http://login.example.com/token', clientId: 'x', clientSecret: 's' }), {
      code: 'ERR_CLIENT_OPTIONS',
      message: /tokenEndpoint must be https/,
    });
    assert.throws(
      () =>
        clientCredentials({
          tokenEndpoint: world.op.tokenEndpoint,
          clientId: 'x',
          clientSecret: 's',
          certificate: { certificate: 'a', privateKey: 'b' },
        }),
      { code: 'ERR_CLIENT_OPTIONS', message: /exactly one of clientSecret and certificate/ },
    );

    let now = Date.now();
    let up = true;
    const flaky: typeof fetch = (input, init) => (up ? fetch(input, init) : Promise.reject(new TypeError('fetch failed')));
    const provider = clientCredentials({
      tokenEndpoint: world.op.tokenEndpoint,
      clientId: 'admin',
      clientSecret: 'admin-secret',
      resource: API,
      fetch: flaky,
      clock: () => now,
    });
    const token = await provider.getToken();
    up = false;
    now += 3600_000 - 30_000; // due for refresh, still valid for 30 s
    assert.equal(await provider.getToken(), token, 'the endpoint is down: the still-valid token serves');
    now += 29_000; // 1 s left: not handed out
    await assert.rejects(provider.getToken(), { code: 'ERR_TOKEN_ENDPOINT_UNAVAILABLE' });
  });
});
