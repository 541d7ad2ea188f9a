import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createLocalJWKSet, createRemoteJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import { CONSUMER_TENANT_ID, DEFAULT_CLIENT_ID, startEntraServer, type EntraServer } from './entra-server.js';
import { startClusterIssuer } from './service-account-token.js';

const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const AUD = 'api://gatehouse-test';

describe('test Entra server', () => {
  let entra: EntraServer;

  before(async () => {
    entra = await startEntraServer();
  });
  after(() => entra.close());

  const getJson = async (path: string) => {
    const res = await fetch(`${entra.base}${path}`);
    assert.equal(res.status, 200, path);
    return (await res.json()) as Record<string, unknown>;
  };

  it('serves v2 discovery: Microsoft issuer, local endpoints', async () => {
    const tenantDoc = await getJson(`/${TENANT}/v2.0/.well-known/openid-configuration`);
    assert.equal(tenantDoc.issuer, `https://login.microsoftonline.com/${TENANT}/v2.0`);
    assert.equal(tenantDoc.jwks_uri, `${entra.base}/${TENANT}/discovery/v2.0/keys`);
    assert.equal(tenantDoc.token_endpoint, `${entra.base}/${TENANT}/oauth2/v2.0/token`);
    assert.equal(tenantDoc.userinfo_endpoint, 'https://graph.microsoft.com/oidc/userinfo');

    const common = await getJson('/common/v2.0/.well-known/openid-configuration');
    assert.equal(common.issuer, 'https://login.microsoftonline.com/{tenantid}/v2.0');
    assert.equal(common.jwks_uri, `${entra.base}/common/discovery/v2.0/keys`);
    const organizations = await getJson('/organizations/v2.0/.well-known/openid-configuration');
    assert.equal(organizations.issuer, 'https://login.microsoftonline.com/{tenantid}/v2.0');
    const consumers = await getJson('/consumers/v2.0/.well-known/openid-configuration');
    assert.equal(consumers.issuer, `https://login.microsoftonline.com/${CONSUMER_TENANT_ID}/v2.0`);
  });

  it('serves v1 discovery with the sts.windows.net issuer', async () => {
    const tenantDoc = await getJson(`/${TENANT}/.well-known/openid-configuration`);
    assert.equal(tenantDoc.issuer, `https://sts.windows.net/${TENANT}/`);
    assert.equal(tenantDoc.jwks_uri, `${entra.base}/${TENANT}/discovery/keys`);
    const common = await getJson('/common/.well-known/openid-configuration');
    assert.equal(common.issuer, 'https://sts.windows.net/{tenantid}/');
  });

  it('serves Microsoft keys plus the test keys, with issuers only in v2', async () => {
    type Keys = { keys: Array<{ kid: string; x5t: string; issuer?: string }> };
    const v2 = (await getJson('/common/discovery/v2.0/keys')) as unknown as Keys;
    const v1 = (await getJson('/common/discovery/keys')) as unknown as Keys;
    assert.equal(v2.keys.length, 10 + 2);
    assert.equal(v1.keys.length, 7 + 2);
    const byKid = new Map(v2.keys.map((k) => [k.kid, k]));
    assert.equal(byKid.get(entra.kid('tenant'))?.issuer, 'https://login.microsoftonline.com/{tenantid}/v2.0');
    assert.equal(byKid.get(entra.kid('consumer'))?.issuer, `https://login.microsoftonline.com/${CONSUMER_TENANT_ID}/v2.0`);
    assert.equal(byKid.get(entra.kid('tenant'))?.x5t, entra.kid('tenant'));
    assert.ok(v1.keys.every((k) => k.issuer === undefined));
    assert.ok(v1.keys.some((k) => k.kid === entra.kid('tenant')));
    assert.ok(!v2.keys.some((k) => k.kid === entra.kid('unlisted')));
  });

  it('mints v2 tokens that verify against the served JWKS', async () => {
    const doc = await getJson(`/${TENANT}/v2.0/.well-known/openid-configuration`);
    const jwks = createRemoteJWKSet(new URL(doc.jwks_uri as string));
    const token = await entra.mint({ version: 2, tid: TENANT, aud: AUD, claims: { roles: ['Orders.Read'] } });
    assert.deepEqual(Object.keys(decodeProtectedHeader(token)).sort(), ['alg', 'kid', 'typ']);
    const { payload } = await jwtVerify(token, jwks, {
      issuer: doc.issuer as string,
      audience: AUD,
      algorithms: ['RS256'],
    });
    assert.equal(payload.ver, '2.0');
    assert.equal(payload.tid, TENANT);
    assert.equal(payload.azp, DEFAULT_CLIENT_ID);
    assert.deepEqual(payload.roles, ['Orders.Read']);
    assert.equal((payload.exp ?? 0) - (payload.nbf as number), 3600);

    const personal = await entra.mint({
      version: 2,
      tid: CONSUMER_TENANT_ID,
      aud: AUD,
      key: 'consumer',
      claims: { scp: 'read' },
    });
    const verified = await jwtVerify(personal, jwks, { algorithms: ['RS256'] });
    assert.equal(verified.payload.iss, `https://login.microsoftonline.com/${CONSUMER_TENANT_ID}/v2.0`);
    assert.equal(verified.protectedHeader.kid, entra.kid('consumer'));
  });

  it('mints v1 tokens (kid and x5t) that verify against the v1 JWKS', async () => {
    const doc = await getJson(`/${TENANT}/.well-known/openid-configuration`);
    const jwks = (await getJson(`/${TENANT}/discovery/keys`)) as unknown as JSONWebKeySet;
    const token = await entra.mint({ version: 1, tid: TENANT, aud: AUD });
    const header = decodeProtectedHeader(token);
    assert.equal(header.kid, entra.kid('tenant'));
    assert.equal(header.x5t, entra.kid('tenant'));
    const { payload } = await jwtVerify(token, createLocalJWKSet(jwks), {
      issuer: doc.issuer as string,
      audience: AUD,
    });
    assert.equal(payload.ver, '1.0');
    assert.equal(payload.appid, DEFAULT_CLIENT_ID);
  });

  it('honours clock, omit and header options', async () => {
    const now = 1_700_000_000;
    const token = await entra.mint({
      version: 2,
      tid: TENANT,
      aud: AUD,
      now,
      expiresIn: 60,
      header: 'x5t',
      omit: ['nbf'],
      extraHeader: { nonce: 'n' },
    });
    const header = decodeProtectedHeader(token);
    assert.equal(header.kid, undefined);
    assert.equal(header.x5t, entra.kid('tenant'));
    assert.equal(header.nonce, 'n');
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as Record<string, unknown>;
    assert.equal(payload.iat, now);
    assert.equal(payload.exp, now + 60);
    assert.equal('nbf' in payload, false);
  });

  it('counts requests, can be down, and rejects unknown tenants and paths', async () => {
    const path = '/common/discovery/v2.0/keys';
    const seen = entra.requests(path);
    const total = entra.requests();
    entra.setDown(true);
    assert.equal((await fetch(entra.base + path)).status, 503);
    entra.setDown(false);
    assert.equal((await fetch(entra.base + path)).status, 200);
    assert.equal(entra.requests(path), seen + 2);
    assert.equal((await fetch(`${entra.base}/contoso.example/v2.0/.well-known/openid-configuration`)).status, 400);
    assert.equal((await fetch(`${entra.base}/common/nowhere`)).status, 404);
    assert.equal(entra.requests(), total + 4);

    entra.setKeyPublished('unlisted', true);
    const keys = (await getJson(path)) as unknown as { keys: Array<{ kid: string }> };
    assert.ok(keys.keys.some((k) => k.kid === entra.kid('unlisted')));
    entra.setKeyPublished('unlisted', false);
  });

  it('token endpoint: issues app tokens that verify, and refuses as Entra does (client, scope, secret, assertion)', async () => {
    const cluster = await startClusterIssuer();
    const app = '0a0a0a0a-0000-4000-8000-000000000001';
    const federated = { issuer: cluster.issuer, subject: cluster.subject('shop', 'api'), jwks: cluster.jwks };
    entra.registerApp({ tenant: TENANT, clientId: app, secret: 's', federated, roles: ['Orders.Read'], refreshInSeconds: 1800 });
    const endpoint = `${entra.base}/${TENANT}/oauth2/v2.0/token`;
    const post = async (form: Record<string, string>, headers: Record<string, string> = {}) => {
      const res = await fetch(endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
        body: new URLSearchParams(form),
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    const grant = { grant_type: 'client_credentials', client_id: app, scope: 'api://orders/.default' };

    const ok = await post({ ...grant, client_secret: 's' });
    assert.equal(ok.status, 200);
    assert.deepEqual([ok.body.token_type, ok.body.expires_in, ok.body.refresh_in], ['Bearer', 3600, 1800]);
    const doc = await getJson(`/${TENANT}/v2.0/.well-known/openid-configuration`);
    const { payload } = await jwtVerify(ok.body.access_token as string, createRemoteJWKSet(new URL(doc.jwks_uri as string)), {
      issuer: doc.issuer as string,
      audience: 'api://orders',
    });
    assert.deepEqual([payload.azp, payload.azpacr, payload.roles, payload.tid], [app, '1', ['Orders.Read'], TENANT]);

    const basic = `Basic ${Buffer.from(`${app}:s`).toString('base64')}`;
    assert.equal((await post({ grant_type: 'client_credentials', scope: 'api://orders/.default' }, { authorization: basic })).status, 200);
    const assertion = await cluster.serviceAccountToken({ namespace: 'shop', serviceAccount: 'api' });
    const federatedOk = await post({
      ...grant,
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: assertion,
    });
    assert.equal(federatedOk.status, 200);
    assert.equal(entra.tokenRequests().at(-1)?.form.client_assertion, assertion, 'the request is recorded as sent');

    const refusals: [Record<string, string>, number, string][] = [
      [{ ...grant, client_secret: 'wrong' }, 401, 'invalid_client'],
      [{ ...grant, client_id: 'someone-else', client_secret: 's' }, 400, 'unauthorized_client'],
      [{ ...grant, scope: 'api://orders/read', client_secret: 's' }, 400, 'invalid_scope'],
      [{ ...grant, scope: 'api://orders/.default api://billing/.default', client_secret: 's' }, 400, 'invalid_scope'],
      [{ ...grant, grant_type: 'password', client_secret: 's' }, 400, 'unsupported_grant_type'],
      [{ ...grant, client_assertion_type: 'urn:other', client_assertion: assertion }, 400, 'invalid_request'],
      [
        {
          ...grant,
          client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
          client_assertion: await cluster.serviceAccountToken({ namespace: 'shop', serviceAccount: 'billing' }),
        },
        400,
        'invalid_client',
      ],
      [{ ...grant }, 401, 'invalid_client'],
    ];
    for (const [form, status, error] of refusals) {
      const answer = await post(form);
      assert.deepEqual([answer.status, answer.body.error], [status, error], JSON.stringify(form));
    }
    const otherTenant = await fetch(`${entra.base}/${CONSUMER_TENANT_ID}/oauth2/v2.0/token`, {
      method: 'POST',
      body: new URLSearchParams({ ...grant, client_secret: 's' }),
    });
    assert.equal(otherTenant.status, 400, 'an app is known only in its own tenant');
  });
});
