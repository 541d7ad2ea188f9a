// The client library with `when` conditions: AuthClient sends the attributes and its local cache keys by them (two
// values, two answers, in both orders, each served from the cache the second time); the server interceptor's
// `attributes` option derives them from the call.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { status, type ServiceError } from '@grpc/grpc-js';
import { createAuthClient, createServerInterceptor, reasonOf, type AuthClient } from '../../src/client/index.js';
import { startTestGatehouse, type TestGatehouse } from '../helpers/gatehouse.js';
import { LOOPBACK_AUDIENCE, startLoopbackIssuer, type LoopbackIssuer } from '../verification/loopback-issuer.js';
import { bearer, ECHO, Echo, startEchoServer, type EchoServer } from './fixtures/echo-service.js';

const ACTION = '/orders.v1.Orders/GetOrder';

describe('client library with when conditions', () => {
  let issuer: LoopbackIssuer;
  let gh: TestGatehouse;
  let authClient: AuthClient;
  let server: EchoServer;
  let echo: Echo;
  let alice: string;

  before(async () => {
    issuer = await startLoopbackIssuer();
    gh = await startTestGatehouse({
      issuers: [{ id: 'idp', type: 'oidc', issuer: issuer.issuer, audiences: [LOOPBACK_AUDIENCE] }],
      rules: [
        { id: 'tenant', actions: ['/orders.v1.Orders/*'], when: 'attributes.tenant == principal.claims.tid' },
        { id: 'echo', actions: [`${ECHO}/*`], when: 'attributes.tenant == principal.claims.tid' },
      ],
    });
    authClient = createAuthClient({ address: gh.address });
    server = await startEchoServer([
      createServerInterceptor({
        authClient,
        attributes: ({ method, metadata }) => {
          const tenant = metadata.get('x-tenant')[0];
          if (tenant === 'boom') throw new Error('cannot read the tenant');
          return typeof tenant === 'string' ? { tenant, method } : undefined;
        },
      }),
    ]);
    echo = new Echo(server.address);
    alice = issuer.token({ claims: { sub: 'alice', tid: 'contoso' } });
  });
  after(async () => {
    echo?.close();
    authClient?.close();
    await server?.close();
    await gh?.close();
    await issuer?.close();
  });

  it('AuthClient: two attribute values, two answers, in both orders, each cached under its own values', async () => {
    const ask = (tenant: string) => authClient.authorize(alice, ACTION, { tenant });
    const order = [
      ['contoso', true],
      ['fabrikam', false],
      ['contoso', true],
      ['fabrikam', false],
    ] as const;
    const seen = [];
    for (const [tenant, allowed] of order) {
      const decision = await ask(tenant);
      assert.equal(decision.allowed, allowed, tenant);
      seen.push(decision.cached);
    }
    assert.deepEqual(seen, [false, false, true, true], 'the third and fourth come from the local cache, each its own');
    const denied = await ask('fabrikam');
    assert.equal(denied.allowed ? '' : denied.reason, 'CONDITION_NOT_MET');
  });

  it('server interceptor: attributes derived from the call decide, and a throwing function refuses the call', async () => {
    const call = (tenant: string) => {
      const metadata = bearer(alice);
      metadata.set('x-tenant', tenant);
      return echo.unary('Say', 'hi', metadata);
    };
    assert.equal((await call('contoso')).text, 'hi');
    const refused = (await call('fabrikam').then(
      () => assert.fail('let through'),
      (e: unknown) => e,
    )) as ServiceError;
    assert.equal(refused.code, status.PERMISSION_DENIED);
    assert.equal(reasonOf(refused), 'CONDITION_NOT_MET');
    const thrown = (await call('boom').then(
      () => assert.fail('let through'),
      (e: unknown) => e,
    )) as ServiceError;
    assert.notEqual(thrown.code, status.OK);
    assert.equal((await call('contoso')).text, 'hi');
  });

  it('server interceptor: attributes must be a function', () => {
    assert.throws(() => createServerInterceptor({ authClient, attributes: 'tenant' as never }), /attributes must be a function/);
  });
});
