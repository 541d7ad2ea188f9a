// Envoy ext_authz v3 through the real server, called by a client built from Envoy's own published protos (not
// gatehouse's trimmed copy), with requests shaped as Envoy sends them for gRPC and for plain HTTP upstreams.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client, credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { IDENTITY_HEADERS } from '../../src/server/http-answer.js';
import { MAX_CHECK_HEADERS } from '../../src/server/envoy-request.js';
import { startTestGatehouse, type TestGatehouse } from '../helpers/gatehouse.js';
import {
  AUTHORIZATION_SERVICE,
  envoyCheckRequest,
  EnvoyTestClient,
  headerOf,
  loadEnvoyPublishedProto,
  plainStruct,
  type CheckResponse,
} from '../helpers/envoy-client.js';
import { parseExposition, valueOf } from '../telemetry/exposition.js';
import { LOOPBACK_AUDIENCE, startLoopbackIssuer, type LoopbackIssuer } from '../verification/loopback-issuer.js';

const GET_ORDER = '/orders.v1.Orders/GetOrder';
const RULES = [
  { id: 'health', actions: ['* /health'], public: true },
  { id: 'orders-grpc', actions: [GET_ORDER], any_roles: ['Orders.Read'] },
  { id: 'orders-read', actions: ['GET /orders/*'], any_roles: ['Orders.Read'] },
  { id: 'orders-delete', actions: ['DELETE /orders/*'], any_roles: ['Orders.Admin'] },
  { id: 'orders-admin', actions: ['orders:admin'], any_roles: ['Orders.Admin'] },
];

const bearer = (token: string) => ['authorization', `Bearer ${token}`] as const;

function assertDenied(response: CheckResponse, grpcCode: number, httpStatus: string, reason: string): void {
  assert.equal(response.status?.code, grpcCode, JSON.stringify(response.status));
  assert.equal(response.http_response, 'denied_response');
  assert.equal(response.ok_response, undefined);
  assert.equal(response.denied_response?.status?.code, httpStatus);
  assert.equal(headerOf(response.denied_response?.headers, 'x-gatehouse-reason'), reason);
  for (const option of response.denied_response?.headers ?? []) assert.equal(option.append_action, 'OVERWRITE_IF_EXISTS_OR_ADD');
}

describe('Envoy ext_authz v3 Check', () => {
  let issuer: LoopbackIssuer;
  let gh: TestGatehouse;
  let envoy: EnvoyTestClient;
  let reader: string;
  let admin: string;

  before(async () => {
    issuer = await startLoopbackIssuer();
    gh = await startTestGatehouse({
      issuers: [{ id: 'idp', type: 'oidc', issuer: issuer.issuer, audiences: [LOOPBACK_AUDIENCE] }],
      rules: RULES,
    });
    envoy = new EnvoyTestClient(gh.address);
    reader = issuer.token({ claims: { sub: 'alice', roles: ['Orders.Read'], scp: 'orders.read', azp: 'web-app', oid: 'oid-1' } });
    admin = issuer.token({ claims: { sub: 'root', roles: ['Orders.Read', 'Orders.Admin'] } });
  });
  after(async () => {
    envoy?.close();
    await gh?.close();
    await issuer?.close();
  });

  it('a bug on the decision path is INTERNAL, whether it comes at once or while a token is verified: never an allow', async () => {
    const engine = gh.gatehouse.authorizer();
    const faults = [
      () => {
        throw new Error('boom: now');
      },
      () => Promise.reject(new Error('boom: later')),
    ];
    for (const fault of faults) {
      engine.answerMany = fault as never;
      try {
        const err = await envoy.check({ path: '/orders/1', headers: [bearer(reader)] }).then(
          () => assert.fail('the request was answered'),
          (e: ServiceError) => e,
        );
        assert.equal(err.code, status.INTERNAL);
        assert.doesNotMatch(err.details, /boom/);
      } finally {
        delete (engine as Partial<typeof engine>).answerMany;
      }
    }
    assert.equal((await envoy.check({ path: '/orders/1', headers: [bearer(reader)] })).http_response, 'ok_response');
  });

  it('allows an HTTP request: identity headers overwrite forged ones, other x-gatehouse-* are removed, principal in metadata', async () => {
    const response = await envoy.check({
      path: '/orders/42?expand=items',
      headers: [bearer(reader), ['x-gatehouse-subject', 'root'], ['X-Gatehouse-Admin', 'yes'], ['x-request-id', 'envoy-allow-1']],
    });
    assert.equal(response.status?.code ?? 0, 0);
    assert.equal(response.http_response, 'ok_response');
    const ok = response.ok_response!;
    assert.deepEqual(
      ok.headers?.map((o) => o.header.key),
      [...IDENTITY_HEADERS],
      'every identity header, always',
    );
    for (const option of ok.headers!) {
      assert.equal(option.append_action, 'OVERWRITE_IF_EXISTS_OR_ADD', option.header.key);
      assert.equal(option.keep_empty_value, true, option.header.key);
    }
    assert.equal(headerOf(ok.headers, 'x-gatehouse-subject'), 'alice', 'the forged subject is overwritten');
    assert.equal(headerOf(ok.headers, 'x-gatehouse-issuer'), 'idp');
    assert.equal(headerOf(ok.headers, 'x-gatehouse-roles'), 'Orders.Read');
    assert.equal(headerOf(ok.headers, 'x-gatehouse-scopes'), 'orders.read');
    assert.equal(headerOf(ok.headers, 'x-gatehouse-client'), 'web-app');
    assert.equal(headerOf(ok.headers, 'x-gatehouse-tenant'), '');
    // Envoy removes after it sets: an identity header in headers_to_remove would delete gatehouse's own value.
    assert.deepEqual(ok.headers_to_remove, ['x-gatehouse-admin']);
    assert.deepEqual(plainStruct(response.dynamic_metadata), {
      subject: 'alice',
      issuer: 'idp',
      tenant: '',
      object_id: 'oid-1',
      client_id: 'web-app',
      roles: ['Orders.Read'],
      scopes: ['orders.read'],
      app_only: false,
      rule: 'orders-read',
    });
    const [audit] = gh.logs.audit('envoy-allow-1');
    assert.equal(audit?.door, 'envoy');
    assert.equal(audit?.action, 'GET /orders/42', 'the query string is not part of the action');
    assert.equal(audit?.allowed, true);
    assert.equal(audit?.subject, 'alice');
  });

  it('removes underscore spellings of the identity headers too (CGI upstreams read them as the real ones)', async () => {
    const response = await envoy.check({
      path: '/orders/42',
      headers: [bearer(reader), ['x_gatehouse_subject', 'root'], ['x-gatehouse_roles', 'Orders.Admin'], ['x_gatehouse-x', '1']],
    });
    assert.equal(response.http_response, 'ok_response');
    assert.deepEqual([...(response.ok_response!.headers_to_remove ?? [])].sort(), [
      'x-gatehouse_roles',
      'x_gatehouse-x',
      'x_gatehouse_subject',
    ]);
  });

  it('a gRPC content-type on a method other than POST is decided as the HTTP request it is', async () => {
    const response = await envoy.check({
      method: 'DELETE',
      grpc: true,
      path: GET_ORDER,
      headers: [bearer(reader), ['x-request-id', 'envoy-grpc-del']],
    });
    assert.equal(gh.logs.audit('envoy-grpc-del')[0]?.action, `DELETE ${GET_ORDER}`);
    assert.notEqual(response.http_response, 'ok_response');
  });

  it('allows a gRPC request by its full method name, headers sent raw in header_map', async () => {
    const response = await envoy.check({
      grpc: true,
      raw: true,
      path: GET_ORDER,
      headers: [bearer(reader), ['x-request-id', 'envoy-grpc-1']],
    });
    assert.equal(response.http_response, 'ok_response');
    assert.equal(headerOf(response.ok_response?.headers, 'x-gatehouse-subject'), 'alice');
    assert.equal(gh.logs.audit('envoy-grpc-1')[0]?.rule, 'orders-grpc');
    assert.equal(gh.logs.audit('envoy-grpc-1')[0]?.action, GET_ORDER);
  });

  it('denies a bad token with 401, status 16, invalid_token, and grpc-status 16 for a gRPC caller', async () => {
    const expired = issuer.token({ claims: { roles: ['Orders.Read'] }, now: Math.floor(Date.now() / 1000) - 7200 });
    const response = await envoy.check({ grpc: true, path: GET_ORDER, headers: [bearer(expired)] });
    assertDenied(response, 16, 'Unauthorized', 'TOKEN_EXPIRED');
    const headers = response.denied_response?.headers;
    assert.match(
      headerOf(headers, 'www-authenticate')!,
      /^Bearer realm="gatehouse", error="invalid_token", error_description="TOKEN_EXPIRED: /,
    );
    assert.equal(headerOf(headers, 'grpc-status'), '16');
    assert.match(headerOf(headers, 'grpc-message')!, /^TOKEN_EXPIRED: /);
    assert.doesNotMatch(JSON.stringify(response), new RegExp(expired.split('.')[2]!), 'the token is never echoed');
  });

  it('denies a missing token with 401 and a bare challenge; an HTTP caller gets no grpc-status but a JSON body', async () => {
    const response = await envoy.check({ path: '/orders/42' });
    assertDenied(response, 16, 'Unauthorized', 'TOKEN_MISSING');
    assert.equal(headerOf(response.denied_response?.headers, 'www-authenticate'), 'Bearer realm="gatehouse"');
    assert.equal(headerOf(response.denied_response?.headers, 'grpc-status'), undefined);
    assert.equal(JSON.parse(response.denied_response!.body!).reason, 'TOKEN_MISSING');
  });

  it('denies by policy with 403, status 7, insufficient_scope (grpc-status 7 for a gRPC caller)', async () => {
    const http = await envoy.check({ method: 'DELETE', path: '/orders/42', headers: [bearer(reader)] });
    assertDenied(http, 7, 'Forbidden', 'MISSING_ROLE');
    assert.match(headerOf(http.denied_response?.headers, 'www-authenticate')!, /error="insufficient_scope"/);
    const grpc = await envoy.check({ grpc: true, path: '/orders.v1.Orders/DeleteOrder', headers: [bearer(admin)] });
    assertDenied(grpc, 7, 'Forbidden', 'NO_MATCHING_RULE');
    assert.equal(headerOf(grpc.denied_response?.headers, 'grpc-status'), '7');
  });

  it('two authorization values are malformed, never one picked: header_map twice, headers joined, or the two disagreeing', async () => {
    const twice = [bearer(admin), bearer(reader)];
    assertDenied(await envoy.check({ raw: true, path: '/orders/1', headers: twice }), 16, 'Unauthorized', 'TOKEN_MALFORMED');
    assertDenied(await envoy.check({ path: '/orders/1', headers: twice }), 16, 'Unauthorized', 'TOKEN_MALFORMED');
    const both = (second: string) => {
      const request = envoyCheckRequest({ path: '/orders/1', headers: [bearer(reader)] });
      const http = (request.attributes as any).request.http;
      http.header_map = { headers: [{ key: 'authorization', raw_value: Buffer.from(`Bearer ${second}`) }] };
      return envoy.check(request);
    };
    assertDenied(await both(admin), 16, 'Unauthorized', 'TOKEN_MALFORMED');
    assert.equal((await both(reader)).http_response, 'ok_response', 'the same value in both encodings is one header');
  });

  it('a non-canonical path is PATH_NOT_CANONICAL, never matched by GET /orders/*', async () => {
    for (const path of ['/orders/..%2fadmin', '/orders/../admin', '/orders//42']) {
      const response = await envoy.check({ path, headers: [bearer(admin)] });
      assertDenied(response, 7, 'Forbidden', 'PATH_NOT_CANONICAL');
    }
    // A gRPC request whose path is no method name is decided as the HTTP request it is.
    const grpc = await envoy.check({ grpc: true, path: '/orders.v1.Orders/../admin', headers: [bearer(admin)] });
    assertDenied(grpc, 7, 'Forbidden', 'PATH_NOT_CANONICAL');
  });

  it('context_extensions gatehouse_action overrides the action, per route', async () => {
    const extensions = { gatehouse_action: 'orders:admin' };
    const denied = await envoy.check({
      path: '/health',
      headers: [bearer(reader), ['x-request-id', 'envoy-ext-1']],
      contextExtensions: extensions,
    });
    assertDenied(denied, 7, 'Forbidden', 'MISSING_ROLE');
    assert.equal(gh.logs.audit('envoy-ext-1')[0]?.action, 'orders:admin');
    const allowed = await envoy.check({ path: '/anything', headers: [bearer(admin)], contextExtensions: extensions });
    assert.equal(allowed.http_response, 'ok_response');
    assert.equal(plainStruct(allowed.dynamic_metadata).rule, 'orders-admin');
  });

  it('a public rule allows without a token, with every identity header sent empty', async () => {
    const response = await envoy.check({ method: 'POST', path: '/health', headers: [['x-gatehouse-subject', 'root']] });
    assert.equal(response.http_response, 'ok_response');
    assert.equal(headerOf(response.ok_response?.headers, 'x-gatehouse-subject'), '');
    assert.equal(response.ok_response?.headers?.length, IDENTITY_HEADERS.length);
  });

  it('counts decisions with door="envoy" and leaves door="grpc" alone', async () => {
    const scrape = async () => parseExposition(await (await fetch(`http://127.0.0.1:${gh.gatehouse.httpPort}/metrics`)).text());
    const labels = (door: string, decision: string) => ({ door, decision, rule: 'orders-read', issuer: 'idp' });
    const before = await scrape();
    await envoy.check({ path: '/orders/7', headers: [bearer(reader)] });
    await envoy.check({ path: '/orders/8', headers: [bearer(reader)] });
    await envoy.check({ method: 'DELETE', path: '/orders/8', headers: [bearer(reader)] });
    const after = await scrape();
    const delta = (door: string, decision: string, rule = 'orders-read') =>
      (valueOf(after, 'gatehouse_decisions_total', { ...labels(door, decision), rule }) ?? 0) -
      (valueOf(before, 'gatehouse_decisions_total', { ...labels(door, decision), rule }) ?? 0);
    assert.equal(delta('envoy', 'allow'), 2);
    assert.equal(delta('grpc', 'allow'), 0);
    assert.equal(delta('envoy', 'deny', 'orders-delete'), 1);
    assert.ok((valueOf(after, 'gatehouse_denials_total', { door: 'envoy', reason: 'MISSING_ROLE', issuer: 'idp' }) ?? 0) >= 1);
  });

  it('shares the decision cache with Authorize, both ways', async () => {
    const token = issuer.token({ claims: { sub: 'carol', roles: ['Orders.Read'] } });
    const first = await gh.client.authorize(token, 'GET /orders/99');
    assert.equal(first.response.allowed, true);
    await envoy.check({ path: '/orders/99?x=1', headers: [bearer(token), ['x-request-id', 'envoy-cache-1']] });
    assert.equal(gh.logs.audit('envoy-cache-1')[0]?.cached, true, 'Check served from what Authorize cached');
    await envoy.check({ path: '/orders/100', headers: [bearer(token), ['x-request-id', 'envoy-cache-2']] });
    assert.equal(gh.logs.audit('envoy-cache-2')[0]?.cached, false);
    await gh.client.authorize(token, 'GET /orders/100', { requestId: 'grpc-cache-3' });
    assert.equal(gh.logs.audit('grpc-cache-3')[0]?.cached, true, 'Authorize served from what Check cached');
  });

  it('never logs the token', async () => {
    const token = issuer.token({ claims: { sub: 'dave', roles: ['Orders.Read'] } });
    await envoy.check({ path: '/orders/1', headers: [bearer(token)] });
    await envoy.check({ path: '/orders/1', headers: [bearer(token), bearer(token)] });
    assert.ok(!gh.logs.raw.some((line) => line.includes(token.split('.')[2]!)));
  });

  describe('requests gatehouse cannot decide are RPC errors (INVALID_ARGUMENT), never INTERNAL', () => {
    let raw: Client;
    before(() => {
      raw = new Client(gh.address, credentials.createInsecure(), { 'grpc.max_send_message_length': -1 });
    });
    after(() => raw.close());
    const send = (bytes: Buffer) =>
      new Promise<ServiceError | null>((resolve) =>
        raw.makeUnaryRequest(
          `/${AUTHORIZATION_SERVICE}/Check`,
          (b: Buffer) => b,
          (b: Buffer) => b,
          bytes,
          new Metadata(),
          { deadline: Date.now() + 10_000 },
          (err) => resolve(err),
        ),
      );
    const encode = (request: Record<string, unknown>) =>
      (loadEnvoyPublishedProto()[AUTHORIZATION_SERVICE] as any).Check.requestSerialize(request) as Buffer;

    it('undecodable bytes, at the top level and nested', async () => {
      for (const bytes of [Buffer.from([0x0a, 0xff]), Buffer.from([0x0a, 0x03, 0x22, 0x05, 0x12]), Buffer.from([0x08])]) {
        const err = await send(bytes);
        assert.equal(err?.code, status.INVALID_ARGUMENT, `${bytes.toString('hex')}: ${err?.details}`);
        assert.match(err!.details, /not a valid envoy\.service\.auth\.v3\.CheckRequest/);
      }
    });

    it('over server.max_message_bytes, refused before decoding', async () => {
      const big = encode(envoyCheckRequest({ path: '/orders/1', headers: [['x-padding', 'p'.repeat(70_000)]] }));
      const err = await send(big);
      assert.equal(err?.code, status.INVALID_ARGUMENT);
      assert.match(err!.details, /server\.max_message_bytes/);
    });

    it(`more than ${MAX_CHECK_HEADERS} headers, or no HTTP attributes`, async () => {
      const many = Array.from({ length: MAX_CHECK_HEADERS }, (_, i) => [`x-h${i}`, ''] as [string, string]);
      const err = await send(encode(envoyCheckRequest({ path: '/orders/1', headers: many })));
      assert.equal(err?.code, status.INVALID_ARGUMENT);
      assert.match(err!.details, /headers/);
      const none = await send(encode({ attributes: { context_extensions: {} } }));
      assert.equal(none?.code, status.INVALID_ARGUMENT);
      const ok = await envoy.check({ path: '/orders/1', headers: [bearer(reader), ...many.slice(0, 200)] });
      assert.equal(ok.http_response, 'ok_response', 'as many headers as Envoy sends by default still pass');
    });
  });
});

describe('Envoy Check: strip_authorization', () => {
  let stripped: LoopbackIssuer;
  let kept: LoopbackIssuer;
  let gh: TestGatehouse;
  let envoy: EnvoyTestClient;

  before(async () => {
    [stripped, kept] = await Promise.all([startLoopbackIssuer(), startLoopbackIssuer()]);
    gh = await startTestGatehouse({
      proxy: { strip_authorization: true },
      issuers: [
        { id: 'stripped', type: 'oidc', issuer: stripped.issuer, audiences: [LOOPBACK_AUDIENCE] },
        { id: 'kept', type: 'oidc', issuer: kept.issuer, audiences: [LOOPBACK_AUDIENCE], strip_authorization: false },
      ],
      rules: RULES,
    });
    envoy = new EnvoyTestClient(gh.address);
  });
  after(async () => {
    envoy?.close();
    await gh?.close();
    await Promise.all([stripped?.close(), kept?.close()]);
  });

  it('removes authorization upstream when configured, and an issuer may override the global setting', async () => {
    const roles = { roles: ['Orders.Read'] };
    const global = await envoy.check({ path: '/orders/1', headers: [bearer(stripped.token({ claims: roles }))] });
    assert.deepEqual(global.ok_response?.headers_to_remove, ['authorization']);
    const override = await envoy.check({ path: '/orders/1', headers: [bearer(kept.token({ claims: roles }))] });
    assert.equal(override.http_response, 'ok_response');
    assert.deepEqual(override.ok_response?.headers_to_remove ?? [], []);
  });
});
