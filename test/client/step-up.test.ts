// The claims challenge in the client library: AuthClient hands it back on the denied decision, and the server
// interceptor sends it as a `www-authenticate` trailer (UNAUTHENTICATED: the caller must get a new token). Against
// real servers: a loopback Entra authority minting real-format tokens, gatehouse, and the echo service.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { status, type ServiceError } from '@grpc/grpc-js';
import { createAuthClient, createServerInterceptor, reasonOf, type AuthClient } from '../../src/client/index.js';
import { startEntraServer, type EntraServer } from '../helpers/entra-server.js';
import { startTestGatehouse, type TestGatehouse } from '../helpers/gatehouse.js';
import { bearer, ECHO, Echo, startEchoServer, type EchoServer } from './fixtures/echo-service.js';

const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const AUD = 'api://echo';
const CLAIMS = { access_token: { acrs: { essential: true, value: 'c1' } } };

function claimsOf(challenge: string | undefined): unknown {
  const match = /^Bearer realm="", authorization_uri="[^"]+", error="insufficient_claims", claims="([^"]+)"$/.exec(challenge ?? '');
  assert.ok(match, `not a claims challenge: ${challenge}`);
  return JSON.parse(Buffer.from(match[1]!, 'base64').toString('utf8'));
}

describe('client library: the claims challenge of AUTH_CONTEXT_REQUIRED', () => {
  let entra: EntraServer;
  let gh: TestGatehouse;
  let authClient: AuthClient;
  let server: EchoServer;
  let echo: Echo;
  const mint = (claims: Record<string, unknown>) =>
    entra.mint({ version: 2, tid: TENANT, aud: AUD, claims: { roles: ['echo.read'], ...claims } });

  before(async () => {
    entra = await startEntraServer();
    gh = await startTestGatehouse({
      issuers: [{ id: 'contoso', type: 'entra', tenant: TENANT, authority: entra.base, audiences: [AUD] }],
      rules: [{ id: 'echo-step-up', actions: [`${ECHO}/*`], any_roles: ['echo.read'], auth_contexts: ['c1'] }],
    });
    authClient = createAuthClient({ address: gh.address });
    server = await startEchoServer([createServerInterceptor({ authClient })]);
    echo = new Echo(server.address);
  });
  after(async () => {
    echo?.close();
    authClient?.close();
    await server?.close();
    await gh?.close();
    await entra?.close();
  });

  it('AuthClient: the denied decision carries the challenge for a cp1 client (kind token), none otherwise (kind policy)', async () => {
    const capable = await authClient.authorize(await mint({ xms_cc: ['cp1'] }), `${ECHO}/Say`);
    assert.ok(!capable.allowed);
    assert.equal(capable.reason, 'AUTH_CONTEXT_REQUIRED');
    assert.equal(capable.kind, 'token');
    assert.deepEqual(claimsOf(capable.challenge), CLAIMS);

    const plain = await authClient.authorize(await mint({}), `${ECHO}/Say`);
    assert.ok(!plain.allowed);
    assert.equal(plain.reason, 'AUTH_CONTEXT_REQUIRED');
    assert.equal(plain.kind, 'policy');
    assert.equal(plain.challenge, undefined);
  });

  it('server interceptor: UNAUTHENTICATED with a www-authenticate trailer; PERMISSION_DENIED without one for others', async () => {
    const refusal = async (token: string) =>
      (await echo.unary('Say', 'hi', bearer(token)).then(
        () => assert.fail('the call was let through'),
        (e: unknown) => e,
      )) as ServiceError;
    const capable = await refusal(await mint({ xms_cc: ['cp1'] }));
    assert.equal(capable.code, status.UNAUTHENTICATED);
    assert.equal(reasonOf(capable), 'AUTH_CONTEXT_REQUIRED');
    assert.deepEqual(claimsOf(capable.metadata.get('www-authenticate')[0] as string), CLAIMS);

    const plain = await refusal(await mint({}));
    assert.equal(plain.code, status.PERMISSION_DENIED);
    assert.deepEqual(plain.metadata.get('www-authenticate'), []);
  });

  it('a stepped-up token (acrs [c1]) goes through', async () => {
    const said = await echo.unary('Say', 'hi', bearer(await mint({ acrs: ['c1'], xms_cc: ['cp1'] })));
    assert.equal(said.text, 'hi');
  });
});
