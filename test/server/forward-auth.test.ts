// /v1/authz, HTTP forward auth, called directly with raw requests (duplicate headers, control characters, huge
// header blocks are sent exactly as written): decisions as nginx, Caddy and Traefik ask for them, each refusal with
// its status and X-Gatehouse-Reason, a forward that is ambiguous refused before any decision, the limits, and the
// same audit line and metrics (door="http") as Authorize.
import assert from 'node:assert/strict';
import { createServer, STATUS_CODES } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { forwardAuthHandler } from '../../src/server/forward-auth.js';
import { IDENTITY_HEADERS } from '../../src/server/http-answer.js';
import { noopHooks } from '../../src/server/telemetry-hooks.js';
import { startTestGatehouse, type TestGatehouse } from '../helpers/gatehouse.js';
import { rawExchange, rawRequest, type RawResponse } from '../helpers/raw-http.js';
import { parseExposition, valueOf } from '../telemetry/exposition.js';
import { LOOPBACK_AUDIENCE, startLoopbackIssuer, type LoopbackIssuer } from '../verification/loopback-issuer.js';

type Headers = [string, string][];

const RULES = [
  { id: 'orders-read', actions: ['GET /orders/*'], any_roles: ['Orders.Read'] },
  { id: 'health', actions: ['* /health'], public: true },
];

describe('forward auth: /v1/authz', () => {
  let issuer: LoopbackIssuer;
  const gatehouses: Record<'any' | 'original' | 'forwarded', TestGatehouse> = {} as never;
  let reader: string;

  before(async () => {
    issuer = await startLoopbackIssuer();
    for (const mode of ['any', 'original', 'forwarded'] as const) {
      gatehouses[mode] = await startTestGatehouse({
        issuers: [{ id: 'idp', type: 'oidc', issuer: issuer.issuer, audiences: [LOOPBACK_AUDIENCE] }],
        rules: RULES,
        proxy: { forwarded_headers: mode },
      });
    }
    reader = issuer.token({ claims: { sub: 'alice', roles: ['Orders.Read'], scp: 'orders.read' } });
  });
  after(async () => {
    for (const gh of Object.values(gatehouses)) await gh?.close();
    await issuer?.close();
  });

  const ask = (headers: Headers, mode: keyof typeof gatehouses = 'any', method = 'GET') =>
    rawRequest(gatehouses[mode].gatehouse.httpPort, method, '/v1/authz', headers);
  const nginx = (method: string, uri: string, token?: string): Headers => [
    ['X-Original-Method', method],
    ['X-Original-URI', uri],
    ...(token ? ([['Authorization', `Bearer ${token}`]] as Headers) : []),
  ];
  const caddy = (method: string, uri: string, token?: string): Headers => [
    ['X-Forwarded-Method', method],
    ['X-Forwarded-Uri', uri],
    ...(token ? ([['Authorization', `Bearer ${token}`]] as Headers) : []),
  ];
  const assertMalformed = (res: RawResponse, pattern: RegExp) => {
    assert.equal(res.status, 400, res.body);
    assert.equal(res.header('x-gatehouse-reason'), 'FORWARD_MALFORMED');
    assert.match(res.body, pattern);
    for (const name of IDENTITY_HEADERS) assert.equal(res.header(name), undefined, name);
  };

  it('allows with 200 and every identity header, empty where the token has no such claim; any method', async () => {
    for (const method of ['GET', 'HEAD', 'POST']) {
      const res = await ask([...nginx('GET', '/orders/42?expand=items', reader), ['X-Request-Id', 'fa-allow-1']], 'any', method);
      assert.equal(res.status, 200, `${method}: ${res.body}`);
      assert.equal(res.header('x-gatehouse-subject'), 'alice');
      assert.equal(res.header('x-gatehouse-issuer'), 'idp');
      assert.equal(res.header('x-gatehouse-roles'), 'Orders.Read');
      assert.equal(res.header('x-gatehouse-scopes'), 'orders.read');
      for (const name of IDENTITY_HEADERS) assert.equal(res.headers[name]?.length, 1, `${name} is sent once, empty or not`);
      assert.equal(res.header('x-gatehouse-tenant'), '');
      assert.equal(res.header('x-gatehouse-reason'), undefined);
      assert.equal(res.header('x-request-id'), 'fa-allow-1');
    }
    const [audit] = gatehouses.any.logs.audit('fa-allow-1');
    assert.equal(audit?.door, 'http');
    assert.equal(audit?.action, 'GET /orders/42', 'the query is not part of the action');
    assert.equal(audit?.subject, 'alice');
    assert.equal(audit?.allowed, true);
    // A public rule needs no token: 200, every identity header empty.
    const open = await ask(caddy('POST', '/health'));
    assert.equal(open.status, 200);
    for (const name of IDENTITY_HEADERS) assert.equal(open.header(name), '', name);
  });

  it("every answer, allowed or refused, says no-store and carries its request id (the caller's, else a new one)", async () => {
    const answers = {
      allowed: await ask([...nginx('GET', '/orders/42', reader), ['X-Request-Id', 'fa-any-1']]),
      missing: await ask([...nginx('GET', '/orders/42'), ['X-Request-Id', 'fa-any-2']]),
      forbidden: await ask([...caddy('DELETE', '/orders/42', reader), ['X-Request-Id', 'fa-any-3']]),
      malformed: await ask([
        ['X-Original-Method', 'GET'],
        ['X-Request-Id', 'fa-any-4'],
      ]),
      body: await ask([...nginx('GET', '/orders/42', reader), ['Content-Length', '2'], ['X-Request-Id', 'fa-any-5']], 'any', 'POST'),
    };
    assert.deepEqual(
      Object.values(answers).map((res) => res.status),
      [200, 401, 403, 400, 413],
    );
    Object.values(answers).forEach((res, i) => {
      assert.equal(res.header('cache-control'), 'no-store', `answer ${i}`);
      assert.equal(res.header('x-request-id'), `fa-any-${i + 1}`, `answer ${i}`);
      assert.equal(res.headers['x-request-id']?.length, 1, `answer ${i}: one request id`);
    });
    assert.equal(answers.body.header('connection'), 'close');
    const fresh = await ask(nginx('GET', '/orders/42', reader));
    assert.match(fresh.header('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
  });

  it('refuses: 401 with a challenge for token problems, 403 for the rules, each with X-Gatehouse-Reason', async () => {
    const missing = await ask(nginx('GET', '/orders/42'));
    assert.equal(missing.status, 401);
    assert.equal(missing.header('x-gatehouse-reason'), 'TOKEN_MISSING');
    assert.equal(missing.header('www-authenticate'), 'Bearer realm="gatehouse"');
    const expired = await ask(nginx('GET', '/orders/42', issuer.token({ claims: { exp: 1000, roles: ['Orders.Read'] } })));
    assert.equal(expired.status, 401);
    assert.equal(expired.header('x-gatehouse-reason'), 'TOKEN_EXPIRED');
    assert.match(
      expired.header('www-authenticate') ?? '',
      /^Bearer realm="gatehouse", error="invalid_token", error_description="TOKEN_EXPIRED: /,
    );
    const nobody = await ask(caddy('GET', '/orders/42', issuer.token()), 'any');
    assert.equal(nobody.status, 403);
    assert.equal(nobody.header('x-gatehouse-reason'), 'MISSING_ROLE');
    assert.match(nobody.header('www-authenticate') ?? '', /error="insufficient_scope"/);
    const written = await ask(caddy('DELETE', '/orders/42', reader));
    assert.equal(written.status, 403);
    assert.equal(written.header('x-gatehouse-reason'), 'NO_MATCHING_RULE');
    for (const res of [missing, expired, nobody, written]) {
      for (const name of IDENTITY_HEADERS) assert.equal(res.header(name), undefined, name);
    }
  });

  it('refuses a non-canonical path as PATH_NOT_CANONICAL (403), whatever the rule for /orders/* says', async () => {
    for (const uri of ['/orders/../admin', '/orders/..%2fadmin', '/orders/%2e%2e/admin', '//orders/42', '/orders/42;x']) {
      const res = await ask(nginx('GET', uri, reader));
      assert.equal(res.status, 403, uri);
      assert.equal(res.header('x-gatehouse-reason'), 'PATH_NOT_CANONICAL', uri);
    }
  });

  it('any: both families are read; carrying both with different values is malformed, never a choice', async () => {
    const agreeing = await ask([...nginx('GET', '/orders/42', reader), ...caddy('GET', '/orders/42')]);
    assert.equal(agreeing.status, 200);
    assertMalformed(await ask([...nginx('GET', '/orders/42', reader), ...caddy('GET', '/orders/43')]), /disagree/);
    assertMalformed(await ask([...nginx('DELETE', '/orders/42', reader), ...caddy('GET', '/orders/42')]), /disagree/);
    // One header of the other family is enough: nginx sets the URI, a client adds only a method.
    assertMalformed(await ask([...nginx('DELETE', '/orders/42', reader), ['X-Forwarded-Method', 'GET']]), /disagree/);
    assertMalformed(await ask([...caddy('GET', '/orders/42', reader), ['X-Original-URI', '/orders/42']]), /disagree/);
  });

  it('original / forwarded: only the trusted family is read, and a forward carrying the other is refused', async () => {
    assert.equal((await ask(nginx('GET', '/orders/42', reader), 'original')).status, 200);
    assertMalformed(await ask(caddy('GET', '/orders/42', reader), 'original'), /trusts only the original family/);
    assertMalformed(await ask([...nginx('GET', '/orders/42', reader), ['X-Forwarded-Uri', '/orders/42']], 'original'), /trusts only/);
    assert.equal((await ask(caddy('GET', '/orders/42', reader), 'forwarded')).status, 200);
    assertMalformed(await ask(nginx('GET', '/orders/42', reader), 'forwarded'), /trusts only the forwarded family/);
    assertMalformed(await ask([...caddy('GET', '/orders/42', reader), ['X-Original-Method', 'GET']], 'forwarded'), /trusts only/);
  });

  it('refuses a malformed forward with 400 FORWARD_MALFORMED, the problem named (and logged), never a 200', async () => {
    const token: Headers = [['Authorization', `Bearer ${reader}`]];
    assertMalformed(await ask([...token, ['X-Request-Id', 'fa-bad-1']]), /original URI is missing/);
    assertMalformed(await ask([...token, ['X-Original-Method', 'GET']]), /original URI is missing/);
    assertMalformed(await ask([...token, ['X-Original-URI', '/orders/42']]), /original method is missing/);
    assertMalformed(await ask(nginx('GET', '', reader)), /X-Original-URI is empty/);
    assertMalformed(await ask(nginx('GET', 'http://evil.example/orders/42', reader)), /not a path/);
    assertMalformed(await ask(nginx('GET', '*', reader)), /not a path/);
    assertMalformed(await ask(nginx('GET', '/orders/\t42', reader)), /control character/);
    assertMalformed(await ask(nginx('GET', '/orders/\u00e9', reader)), /printable ASCII/);
    assertMalformed(await ask(nginx('G(E)T', '/orders/42', reader)), /not an HTTP method/);
    assertMalformed(await ask(nginx('GET', `/orders/${'a'.repeat(1100)}`, reader)), /longer than 1024/);
    assertMalformed(
      await ask([...nginx('GET', '/orders/42', reader), ['Authorization', `Bearer ${reader}`]]),
      /more than one Authorization/,
    );
    assertMalformed(await ask([...nginx('GET', '/orders/42', reader), ['X-Original-URI', '/orders/43']]), /more than one X-Original-URI/);
    assertMalformed(await ask([...caddy('GET', '/orders/42', reader), ['X-Forwarded-Method', 'GET']]), /more than one X-Forwarded-Method/);
    const logged = gatehouses.any.logs.parsed().find((line) => line.request_id === 'fa-bad-1');
    assert.equal(logged?.level, 'warn');
    assert.match(String(logged?.problem), /original URI is missing/);
    assert.deepEqual(gatehouses.any.logs.audit('fa-bad-1'), [], 'no decision was made, so none is audited');
  });

  it('refuses what node:http cannot parse (CR, LF, NUL, controls in a value) with 400, and keeps serving', async () => {
    const port = gatehouses.any.gatehouse.httpPort;
    for (const value of ['/orders/42\rX', '/orders/\u000142', '/orders/\u000042', '/orders/\u007f']) {
      const res = await rawExchange(
        port,
        `GET /v1/authz HTTP/1.1\r\nHost: x\r\nX-Original-Method: GET\r\nX-Original-URI: ${value}\r\n\r\n`,
      );
      assert.equal(res.status, 400, JSON.stringify(value));
      assert.equal(res.header('x-gatehouse-reason'), 'FORWARD_MALFORMED');
    }
    assert.equal((await ask(nginx('GET', '/orders/42', reader))).status, 200);
  });

  it('limits headers: a block over the byte bound, or over 100 lines, is 431; a body is 413; the listener keeps serving', async () => {
    const huge = await ask([...nginx('GET', '/orders/42', reader), ['X-Padding', 'p'.repeat(64 * 1024)]]);
    assert.equal(huge.status, 431);
    assert.equal(huge.header('x-gatehouse-reason'), 'HEADERS_TOO_LARGE');
    const many: Headers = Array.from({ length: 150 }, (_, i) => [`X-Filler-${i}`, 'x']);
    // The forwarded URI comes last, where node:http would silently drop it: refused, never decided without it.
    const crowded = await ask([
      ['Authorization', `Bearer ${reader}`],
      ...many,
      ['X-Original-Method', 'GET'],
      ['X-Original-URI', '/orders/42'],
    ]);
    assert.equal(crowded.status, 431);
    assert.equal(crowded.header('x-gatehouse-reason'), 'HEADERS_TOO_LARGE');
    const port = gatehouses.any.gatehouse.httpPort;
    const withBody = await rawExchange(
      port,
      `POST /v1/authz HTTP/1.1\r\nHost: x\r\nX-Original-Method: GET\r\nX-Original-URI: /orders/42\r\nAuthorization: Bearer ${reader}\r\nContent-Length: 5\r\n\r\nhello`,
    );
    assert.equal(withBody.status, 413);
    assert.equal(withBody.header('x-gatehouse-reason'), 'FORWARD_MALFORMED');
    // A token near tokens.max_bytes (16 KiB) still fits, with room to spare.
    const big = await ask(nginx('GET', '/orders/42', issuer.token({ claims: { roles: ['Orders.Read'], pad: 'x'.repeat(10_000) } })));
    assert.equal(big.status, 200);
    assert.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200);
  });

  it('counts decisions under door="http" on /metrics, beside the gRPC ones', async () => {
    const gh = gatehouses.original;
    await ask(nginx('GET', '/orders/1', reader), 'original');
    await ask(nginx('GET', '/orders/2'), 'original');
    await gh.client.authorize(reader, 'GET /orders/3');
    const samples = parseExposition(await (await fetch(`http://127.0.0.1:${gh.gatehouse.httpPort}/metrics`)).text());
    assert.ok((valueOf(samples, 'gatehouse_decisions_total', { door: 'http', decision: 'allow', rule: 'orders-read' }) ?? 0) >= 1);
    assert.ok((valueOf(samples, 'gatehouse_denials_total', { door: 'http', reason: 'TOKEN_MISSING' }) ?? 0) >= 1);
    assert.ok((valueOf(samples, 'gatehouse_decisions_total', { door: 'grpc', decision: 'allow', rule: 'orders-read' }) ?? 0) >= 1);
    assert.ok((valueOf(samples, 'gatehouse_authorize_duration_seconds_count', { door: 'http' }) ?? 0) >= 2);
  });

  it('refuses with 503 while shutting down, and with 500 INTERNAL when the engine throws: never an allow', async () => {
    const errors: unknown[] = [];
    const cases = [
      { shuttingDown: () => true, authorizer: gatehouses.any.gatehouse.authorizer, status: 503, reason: 'SHUTTING_DOWN' },
      {
        shuttingDown: () => false,
        authorizer: () => {
          throw new Error('boom');
        },
        status: 500,
        reason: 'INTERNAL',
      },
    ];
    for (const { shuttingDown, authorizer, status, reason } of cases) {
      const server = createServer(
        forwardAuthHandler({
          authorizer,
          shuttingDown,
          hooks: { ...noopHooks, onInternalError: (_m, err) => errors.push(err) },
          forwardedHeaders: () => 'any',
          onMalformed() {},
        }),
      );
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      try {
        const res = await rawRequest((server.address() as AddressInfo).port, 'GET', '/v1/authz', nginx('GET', '/orders/42', reader));
        assert.equal(res.status, status);
        assert.equal(res.statusLine, `HTTP/1.1 ${status} ${STATUS_CODES[status]}`);
        assert.equal(res.header('x-gatehouse-reason'), reason);
        assert.equal(res.header('x-gatehouse-subject'), undefined);
        assert.doesNotMatch(res.body, /boom/);
      } finally {
        server.close();
      }
    }
    assert.equal((errors[0] as Error).message, 'boom');
  });
});
