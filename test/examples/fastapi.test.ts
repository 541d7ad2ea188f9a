// examples/fastapi end to end: the FastAPI app under Debian's uvicorn, asking a real `gatehouse dev` over gRPC (direct
// mode) with the dev issuer's tokens, and trusting X-Gatehouse-* headers (proxy mode; the nginx-fronted run uses the
// forward-auth door).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { reasonKind } from '../../src/contract/reason-kind.js';
import { CliProcess, tempDir } from '../cli/cli-process.js';
import { EXAMPLE_DIR, FastApiApp, PYTHON, assertPythonToolchain, generateStubs } from './fastapi-app.js';

describe('examples/fastapi, direct mode: require(action) calls gatehouse Authorize over gRPC', () => {
  let dev: CliProcess;
  let app: FastApiApp;
  let issuerUrl: string;
  let stubs: { dir: string; remove: () => void };

  const mint = async (body: Record<string, unknown>): Promise<string> => {
    const res = await fetch(`${issuerUrl}/mint`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    assert.equal(res.status, 200);
    return ((await res.json()) as { token: string }).token;
  };
  const get = (path: string, headers: Record<string, string> = {}, method = 'GET') => app.fetch(path, { method, headers });

  before(async () => {
    assertPythonToolchain();
    stubs = tempDir();
    generateStubs(stubs.dir);
    dev = new CliProcess(['dev', '--grpc', '127.0.0.1:0', '--http', '127.0.0.1:0', '--issuer-port', '0']);
    const address = /gRPC\s+(127\.0\.0\.1:\d+)/.exec(await dev.waitForLine(/^\s+gRPC\s/))![1]!;
    issuerUrl = /issuer\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(await dev.waitForLine(/^\s+issuer\s/))![1]!;
    app = await FastApiApp.start({ GATEHOUSE_MODE: 'direct', GATEHOUSE_ADDRESS: address, GATEHOUSE_DEADLINE_MS: '2000' }, [
      EXAMPLE_DIR,
      stubs.dir,
    ]);
  });
  after(async () => {
    await app?.kill();
    await dev?.kill();
    stubs?.remove();
  });

  it('a reader gets its order with its subject and roles; x-request-id reaches gatehouse', async () => {
    const token = await mint({ sub: 'alice', roles: ['Orders.Read'] });
    const from = dev.mark();
    const res = await get('/orders/42', { authorization: `Bearer ${token}`, 'x-request-id': 'fastapi-req-1' });
    assert.equal(res.status, 200, app.stderr);
    assert.deepEqual(await res.json(), { id: '42', subject: 'alice', roles: ['Orders.Read'] });
    await dev.waitForLine((line) => line.includes('request_id') && line.includes('"fastapi-req-1"'), from);
  });

  it('a token without the role: 403, MISSING_ROLE, insufficient_scope', async () => {
    const noRoles = await mint({ sub: 'bob', roles: [] });
    const reader = await mint({ sub: 'alice', roles: ['Orders.Read'] });
    for (const res of [
      await get('/orders/42', { authorization: `Bearer ${noRoles}` }),
      await get('/orders/42', { authorization: `Bearer ${reader}` }, 'DELETE'),
    ]) {
      assert.equal(res.status, 403);
      assert.equal(res.headers.get('x-gatehouse-reason'), 'MISSING_ROLE');
      assert.match(
        res.headers.get('www-authenticate') ?? '',
        /^Bearer realm="gatehouse", error="insufficient_scope", error_description="MISSING_ROLE: requires /,
      );
      assert.match(((await res.json()) as { detail: string }).detail, /^MISSING_ROLE: /);
    }
  });

  it('an admin may delete', async () => {
    const admin = await mint({ sub: 'carol', roles: ['Orders.Admin'] });
    const res = await get('/orders/7', { authorization: `Bearer ${admin}` }, 'DELETE');
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { id: '7', deleted: true, by: 'carol' });
  });

  it('no token: 401 TOKEN_MISSING with a bare challenge (RFC 6750 §3.1: no error code when no credentials came)', async () => {
    const res = await get('/orders/42');
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('x-gatehouse-reason'), 'TOKEN_MISSING');
    assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="gatehouse"');
  });

  it('an expired or garbled token: 401 invalid_token with the reason', async () => {
    const expired = await mint({ sub: 'alice', roles: ['Orders.Read'], ttlSeconds: -300 });
    for (const [token, reason] of [
      [expired, 'TOKEN_EXPIRED'],
      ['not-a-jwt', 'TOKEN_MALFORMED'],
    ] as const) {
      const res = await get('/orders/42', { authorization: `Bearer ${token}` });
      assert.equal(res.status, 401);
      assert.equal(res.headers.get('x-gatehouse-reason'), reason);
      assert.match(
        res.headers.get('www-authenticate') ?? '',
        new RegExp(`^Bearer realm="gatehouse", error="invalid_token", error_description="${reason}: `),
      );
    }
  });

  it('sorts every reason of the proto as gatehouse does (src/contract/reason-kind.ts); an unknown one is policy', () => {
    const script = [
      'import json, gatehouse_auth as g',
      'from gatehouse.v1 import gatehouse_pb2 as pb',
      'kinds = {name: g.reason_kind(name) for name in pb.Reason.keys()}',
      'kinds["unknown"] = g.reason_kind(g.reason_name(999))',
      'print(json.dumps(kinds))',
    ].join('\n');
    const result = spawnSync(PYTHON, ['-c', script], {
      env: { PYTHONPATH: `${EXAMPLE_DIR}:${stubs.dir}`, PYTHONDONTWRITEBYTECODE: '1' },
      encoding: 'utf8',
    });
    assert.equal(result.status, 0, result.stderr);
    const kinds = JSON.parse(result.stdout) as Record<string, string>;
    assert.equal(kinds.unknown, 'policy');
    delete kinds.unknown;
    assert.ok(Object.keys(kinds).length > 20);
    for (const [name, kind] of Object.entries(kinds)) assert.equal(kind, reasonKind(name), name);
  });

  it('gatehouse stopped: 503 GATEHOUSE_UNAVAILABLE, no challenge (fail closed)', async () => {
    const token = await mint({ sub: 'alice', roles: ['Orders.Read'] });
    await dev.kill();
    const res = await get('/orders/42', { authorization: `Bearer ${token}` });
    assert.equal(res.status, 503);
    assert.equal(res.headers.get('x-gatehouse-reason'), 'GATEHOUSE_UNAVAILABLE');
    assert.equal(res.headers.get('www-authenticate'), null);
    assert.doesNotMatch(await res.text(), /alice|42/);
  });
});

describe('examples/fastapi, proxy mode (without the proxy): trusts X-Gatehouse-* and refuses a request without them', () => {
  let app: FastApiApp;

  before(async () => {
    assertPythonToolchain();
    // No stubs on the path: proxy mode speaks no gRPC.
    app = await FastApiApp.start({ GATEHOUSE_MODE: 'proxy' }, [EXAMPLE_DIR]);
  });
  after(async () => {
    await app?.kill();
  });

  it('answers with the subject and roles the proxy set (percent-encoded values decoded)', async () => {
    const res = await app.fetch('/orders/42', {
      headers: {
        'x-gatehouse-subject': 'J%C3%B6rg',
        'x-gatehouse-issuer': 'dev',
        'x-gatehouse-tenant': '',
        'x-gatehouse-object-id': '',
        'x-gatehouse-client': '',
        'x-gatehouse-roles': 'Orders.Read,Orders.Admin',
        'x-gatehouse-scopes': '',
      },
    });
    assert.equal(res.status, 200, app.stderr);
    assert.deepEqual(await res.json(), { id: '42', subject: 'Jörg', roles: ['Orders.Read', 'Orders.Admin'] });
  });

  it('without identity headers, or with an empty subject (a public rule), refuses with 401', async () => {
    const requests: Record<string, string>[] = [
      {},
      { authorization: 'Bearer whatever' },
      { 'x-gatehouse-subject': '', 'x-gatehouse-roles': 'Orders.Admin' },
    ];
    for (const headers of requests) {
      const res = await app.fetch('/orders/42', { headers });
      assert.equal(res.status, 401, JSON.stringify(headers));
      assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="gatehouse"');
    }
  });
});
