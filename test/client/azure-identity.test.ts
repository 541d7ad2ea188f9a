// The real @azure/identity (and MSAL inside it) against the loopback Entra server, whose tokens gatehouse then
// accepts: ClientSecretCredential, and WorkloadIdentityCredential reading a federated service-account token
// file as AKS mounts it. MSAL talks only to https authorities, so the Entra server also listens with TLS (the
// test CA of test/helpers/tls), trusted through the SDK's own `agent` option, an https.Agent that connects to
// 127.0.0.1 only and records any other host: instance discovery (login.microsoftonline.com) is off, and a test
// proves the guard would see it if it were not.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it, mock } from 'node:test';
import {
  ClientSecretCredential,
  WorkloadIdentityCredential,
  type ClientSecretCredentialOptions,
  type WorkloadIdentityCredentialOptions,
} from '@azure/identity';
import {
  createAuthClient,
  createClientInterceptor,
  createServerInterceptor,
  fromTokenCredential,
  type AuthClient,
} from '../../src/client/index.js';
import { startEntraServer, type EntraServer, type ReceivedTokenRequest } from '../helpers/entra-server.js';
import { startTestGatehouse, type TestGatehouse } from '../helpers/gatehouse.js';
import { LoopbackOnlyAgent } from '../helpers/loopback-only-agent.js';
import { startClusterIssuer, type ClusterIssuer } from '../helpers/service-account-token.js';
import { Echo, startEchoServer, type EchoServer } from './fixtures/echo-service.js';

const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const SCOPE = 'api://orders/.default';
const GET = '/orders.v1.Orders/GetOrder';
const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const STOREFRONT = { clientId: '5a1e5f0e-0000-4000-8000-00000000a001', objectId: '5a1e5f0e-0000-4000-8000-00000000b001' };
const WORKER = { clientId: '0bde0000-0000-4000-8000-00000000a002', objectId: '0bde0000-0000-4000-8000-00000000b002' };
/** Tokens of 240 s: inside MSAL's 5-minute renewal window from the start, so MSAL asks Entra every time. */
const SHORT_LIVED = { clientId: '5407e000-0000-4000-8000-00000000a003', objectId: '5407e000-0000-4000-8000-00000000b003' };
const tls = (name: string) => readFileSync(new URL(`../helpers/tls/${name}`, import.meta.url), 'utf8');
const AKS_ENV = ['AZURE_CLIENT_ID', 'AZURE_TENANT_ID', 'AZURE_FEDERATED_TOKEN_FILE'] as const;

describe('@azure/identity credentials against the loopback Entra, accepted by gatehouse', () => {
  let entra: EntraServer;
  let cluster: ClusterIssuer;
  let gh: TestGatehouse;
  let agent: LoopbackOnlyAgent;
  let dir: string;
  let tokenFile: string;
  let sdk: ClientSecretCredentialOptions & WorkloadIdentityCredentialOptions;
  const lastTokenRequest = (): ReceivedTokenRequest => entra.tokenRequests().at(-1)!;
  const serviceAccountToken = (serviceAccount = 'orders-worker') => cluster.serviceAccountToken({ namespace: 'shop', serviceAccount });

  before(async () => {
    [entra, cluster] = await Promise.all([
      startEntraServer({ tls: { cert: tls('server.pem'), key: tls('server-key.pem') } }),
      startClusterIssuer(),
    ]);
    const federated = { issuer: cluster.issuer, subject: cluster.subject('shop', 'orders-worker'), jwks: cluster.jwks };
    entra.registerApp({ tenant: TENANT, ...STOREFRONT, secret: 'storefront-secret', roles: ['Orders.Read'] });
    entra.registerApp({ tenant: TENANT, ...WORKER, federated, roles: ['Orders.Read'] });
    entra.registerApp({ tenant: TENANT, ...SHORT_LIVED, federated, roles: ['Orders.Read'], tokenLifetimeSeconds: 240 });
    gh = await startTestGatehouse({
      issuers: [{ id: 'contoso', type: 'entra', tenant: TENANT, authority: entra.base, audiences: ['api://orders'] }],
      rules: [
        { id: 'orders-read', actions: ['/orders.v1.Orders/Get*'], any_roles: ['Orders.Read'] },
        { id: 'echo-read', actions: ['/test.v1.Echo/*'], any_roles: ['Orders.Read'] },
      ],
    });
    agent = new LoopbackOnlyAgent(tls('ca.pem'));
    sdk = { authorityHost: entra.httpsBase!, disableInstanceDiscovery: true, agent, retryOptions: { maxRetries: 0 } };
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-workload-identity-'));
    tokenFile = join(dir, 'azure-identity-token'); // AKS: /var/run/secrets/azure/tokens/azure-identity-token
    await writeFile(tokenFile, await serviceAccountToken());
  });
  afterEach(() => {
    mock.timers.reset();
    assert.deepEqual(agent.refused, [], 'nothing beyond loopback was asked for');
  });
  after(async () => {
    agent?.destroy();
    await gh?.close();
    await entra?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('ClientSecretCredential: a token from the https authority that gatehouse allows on Authorize', async () => {
    const credential = new ClientSecretCredential(TENANT, STOREFRONT.clientId, 'storefront-secret', sdk);
    const token = (await credential.getToken(SCOPE))!.token;
    const sent = lastTokenRequest();
    assert.deepEqual([sent.tenant, sent.form.grant_type, sent.form.scope], [TENANT, 'client_credentials', SCOPE]);
    assert.equal(sent.form.client_secret, 'storefront-secret');

    const { response } = await gh.client.authorize(token, GET, { requestId: 'storefront-1' });
    assert.equal(response.allowed, true);
    assert.equal(response.rule, 'orders-read');
    const [audit] = gh.logs.audit('storefront-1');
    assert.deepEqual([audit?.client_id, audit?.object_id, audit?.tenant], [STOREFRONT.clientId, STOREFRONT.objectId, TENANT]);

    const wrong = new ClientSecretCredential(TENANT, STOREFRONT.clientId, 'not-the-secret', sdk);
    await assert.rejects(fromTokenCredential(wrong, SCOPE).getToken(), { code: 'ERR_TOKEN_REQUEST_REFUSED', oauthError: 'invalid_client' });
  });

  it('WorkloadIdentityCredential from the AKS environment: the token file is the assertion, and calls through the interceptors are allowed', async (t) => {
    const saved = AKS_ENV.map((name) => [name, process.env[name]] as const);
    t.after(() => {
      for (const [name, value] of saved) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    });
    Object.assign(process.env, { AZURE_CLIENT_ID: WORKER.clientId, AZURE_TENANT_ID: TENANT, AZURE_FEDERATED_TOKEN_FILE: tokenFile });
    const provider = fromTokenCredential(new WorkloadIdentityCredential(sdk), SCOPE);

    const authClient: AuthClient = createAuthClient({ address: gh.address });
    const server: EchoServer = await startEchoServer([createServerInterceptor({ authClient })]);
    const echo = new Echo(server.address, [createClientInterceptor({ token: provider })]);
    t.after(async () => {
      echo.close();
      await server.close();
      authClient.close();
    });
    const before = entra.tokenRequests().length;
    const said = await Promise.all(Array.from({ length: 20 }, (_, i) => echo.unary('Say', `hello-${i}`)));
    assert.ok(
      said.every((s) => s.subject === WORKER.objectId),
      'every call was allowed as the workload',
    );
    assert.equal(entra.tokenRequests().length, before + 1, 'one token request for 20 concurrent calls');

    const sent = lastTokenRequest();
    assert.equal(sent.form.client_id, WORKER.clientId);
    assert.equal(sent.form.client_assertion_type, JWT_BEARER);
    assert.equal(sent.form.client_assertion, (await readFile(tokenFile, 'utf8')).trim(), 'the assertion is the file content');
    assert.equal(sent.form.client_secret, undefined, 'no secret at all');
  });

  it('a rotated token file is what the same credential sends next: re-read once its 5-minute copy is old', async () => {
    // The clock is faked (Date only) so the credential's own caches age; MSAL, the credential, the Entra server
    // and gatehouse all read the same Date.
    mock.timers.enable({ apis: ['Date'], now: Date.now() });
    const file = join(dir, 'rotating-token');
    const first = await serviceAccountToken();
    await writeFile(file, first);
    const provider = fromTokenCredential(
      new WorkloadIdentityCredential({ ...sdk, tenantId: TENANT, clientId: SHORT_LIVED.clientId, tokenFilePath: file }),
      SCOPE,
    );
    const token1 = await provider.getToken();
    assert.equal(lastTokenRequest().form.client_assertion, first);

    const second = await serviceAccountToken(); // the kubelet rotates the projected token in place
    assert.notEqual(second, first);
    await writeFile(file, second);
    mock.timers.tick(200_000); // past our refresh point: a 240 s token is refreshed at 180 s (60 s skew)
    const count = entra.tokenRequests().length;
    const token2 = await provider.getToken();
    assert.notEqual(token2, token1);
    assert.equal(entra.tokenRequests().length, count + 1, 'MSAL asked Entra: its cached token is inside the renewal window');
    assert.equal(lastTokenRequest().form.client_assertion, first, 'WorkloadIdentityCredential still holds the file it read 200 s ago');

    mock.timers.tick(200_000); // 400 s since the file was read
    const token3 = await provider.getToken();
    assert.equal(lastTokenRequest().form.client_assertion, second, 'the rewritten file is the new assertion');
    const { response } = await gh.client.authorize(token3, GET);
    assert.equal(response.allowed, true);
  });

  it('the SDK failures arrive as the client codes: no matching federated credential, no token file, authority down', async () => {
    const workload = (tokenFilePath: string) =>
      fromTokenCredential(new WorkloadIdentityCredential({ ...sdk, tenantId: TENANT, clientId: WORKER.clientId, tokenFilePath }), SCOPE);
    const otherAccount = join(dir, 'other-service-account');
    await writeFile(otherAccount, await serviceAccountToken('billing'));
    await assert.rejects(workload(otherAccount).getToken(), { code: 'ERR_TOKEN_REQUEST_REFUSED', oauthError: 'invalid_client' });
    assert.equal(lastTokenRequest().form.client_assertion_type, JWT_BEARER, 'the authority saw and refused the assertion');

    await assert.rejects(workload(join(dir, 'absent')).getToken(), { code: 'ERR_CLIENT_CREDENTIAL_UNREADABLE' });

    entra.setDown(true);
    try {
      await assert.rejects(workload(tokenFile).getToken(), { code: 'ERR_TOKEN_ENDPOINT_UNAVAILABLE' });
    } finally {
      entra.setDown(false);
    }
  });

  it('the loopback guard works: with instance discovery left on, the SDK asks login.microsoftonline.com and is refused', async () => {
    const guard = new LoopbackOnlyAgent(tls('ca.pem'));
    try {
      const credential = new ClientSecretCredential(TENANT, STOREFRONT.clientId, 'storefront-secret', {
        ...sdk,
        disableInstanceDiscovery: false,
        agent: guard,
      });
      await assert.rejects(credential.getToken(SCOPE));
      assert.ok(guard.refused.includes('login.microsoftonline.com'), `refused: ${guard.refused.join(', ')}`);
    } finally {
      guard.destroy();
    }
  });
});
