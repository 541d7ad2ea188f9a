// The size limits, door by door and listener by listener, with the status each answers: a token over
// tokens.max_bytes is TOKEN_TOO_LARGE on every door; a request over server.max_message_bytes is INVALID_ARGUMENT
// naming it on both gRPC services (RESOURCE_EXHAUSTED from the transport past twice that); on the HTTP listener a
// header block or request line over its bound is 431 HEADERS_TOO_LARGE on every path, a forward with a body is 413,
// and the listener keeps serving.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { status, type ServiceError } from '@grpc/grpc-js';
import { maxHeaderBytes } from '../../src/server/http-limits.js';
import { EnvoyTestClient, headerOf } from '../helpers/envoy-client.js';
import { startTestGatehouse, type TestGatehouse } from '../helpers/gatehouse.js';
import { rawExchange, rawRequest } from '../helpers/raw-http.js';
import { LOOPBACK_AUDIENCE, startLoopbackIssuer, type LoopbackIssuer } from '../verification/loopback-issuer.js';

const TOKEN_MAX = 2048;
const MESSAGE_MAX = 8192;
const ACTION = 'orders:read';

describe('size limits on every listener', () => {
  let issuer: LoopbackIssuer;
  let gh: TestGatehouse;
  let envoy: EnvoyTestClient;

  before(async () => {
    issuer = await startLoopbackIssuer();
    gh = await startTestGatehouse(
      {
        issuers: [{ id: 'idp', type: 'oidc', issuer: issuer.issuer, audiences: [LOOPBACK_AUDIENCE] }],
        rules: [{ id: 'orders', actions: [ACTION, 'GET /orders/*'], any_roles: ['Orders.Read'] }],
        tokens: { max_bytes: TOKEN_MAX },
        server: { max_message_bytes: MESSAGE_MAX },
      },
      { level: 'silent' },
    );
    envoy = new EnvoyTestClient(gh.address);
  });
  after(async () => {
    envoy?.close();
    await gh?.close();
    await issuer?.close();
  });

  /** A token of `bytes` bytes: a real one with its payload padded (the size check comes before any parsing). */
  const tokenOf = (bytes: number) => {
    const real = issuer.token({ claims: { roles: ['Orders.Read'] } });
    return real + 'A'.repeat(bytes - real.length);
  };
  const check = (token: string) => envoy.check({ path: '/orders/42', headers: [['authorization', `Bearer ${token}`]] });
  const forward = (token: string) =>
    rawRequest(gh.gatehouse.httpPort, 'GET', '/v1/authz', [
      ['X-Original-Method', 'GET'],
      ['X-Original-URI', '/orders/42'],
      ['Authorization', `Bearer ${token}`],
    ]);
  const codeOf = (err: unknown) => ({ code: (err as ServiceError).code, details: (err as ServiceError).details });

  it('a token over tokens.max_bytes is TOKEN_TOO_LARGE on every door', async () => {
    const token = tokenOf(TOKEN_MAX + 500);
    const grpc = await gh.client.authorize(token, ACTION);
    assert.equal(grpc.response.denial?.reason, 'TOKEN_TOO_LARGE');
    const checked = await check(token);
    assert.equal(headerOf(checked.denied_response?.headers, 'x-gatehouse-reason'), 'TOKEN_TOO_LARGE');
    const forwarded = await forward(token);
    assert.equal(forwarded.status, 401);
    assert.equal(forwarded.header('x-gatehouse-reason'), 'TOKEN_TOO_LARGE');
  });

  it('a request over server.max_message_bytes is INVALID_ARGUMENT naming it on both gRPC services; past twice, RESOURCE_EXHAUSTED', async () => {
    const over = tokenOf(MESSAGE_MAX + 100);
    for (const call of [() => gh.client.authorize(over, ACTION), () => check(over)]) {
      const err = codeOf(
        await call().then(
          () => assert.fail('answered'),
          (e: unknown) => e,
        ),
      );
      assert.equal(err.code, status.INVALID_ARGUMENT, err.details);
      assert.match(err.details, /over the limit of 8192 \(server\.max_message_bytes\)/);
    }
    const farOver = tokenOf(2 * MESSAGE_MAX + 100);
    for (const call of [() => gh.client.authorize(farOver, ACTION), () => check(farOver)]) {
      const err = codeOf(
        await call().then(
          () => assert.fail('answered'),
          (e: unknown) => e,
        ),
      );
      assert.equal(err.code, status.RESOURCE_EXHAUSTED, err.details);
    }
    // The same token on HTTP is within the header bound, and is refused by the token's own limit.
    assert.equal((await forward(over)).header('x-gatehouse-reason'), 'TOKEN_TOO_LARGE');
  });

  it('on the HTTP listener, every path: a header block or a request line over the bound is 431; a forward with a body is 413', async () => {
    const { httpPort } = gh.gatehouse;
    const bound = maxHeaderBytes(TOKEN_MAX);
    for (const path of ['/v1/authz', '/metrics', '/readyz', '/healthz']) {
      const big = await rawRequest(httpPort, 'GET', path, [['X-Padding', 'p'.repeat(bound)]]);
      assert.equal(big.status, 431, path);
      assert.equal(big.header('x-gatehouse-reason'), 'HEADERS_TOO_LARGE', path);
      const longLine = await rawRequest(httpPort, 'GET', `${path}?${'q'.repeat(bound)}`);
      assert.equal(longLine.status, 431, `${path} with a long request line`);
    }
    const bodied = await rawExchange(
      httpPort,
      'GET /v1/authz HTTP/1.1\r\nHost: x\r\nX-Original-Method: GET\r\nX-Original-URI: /orders/42\r\nContent-Length: 5\r\n\r\nhello',
    );
    assert.equal(bodied.status, 413);
    assert.equal((await rawRequest(httpPort, 'GET', '/healthz')).status, 200, 'the listener keeps serving');
    const honest = issuer.token({ claims: { roles: ['Orders.Read'] } });
    assert.equal((await gh.client.authorize(honest, ACTION)).response.allowed, true, 'and gRPC keeps serving');
  });
});
