// examples/fastapi in proxy mode, end to end: Debian's nginx with the shipped deploy/nginx/gatehouse.conf in front of
// the FastAPI app under uvicorn, asking a real `gatehouse dev` through /v1/authz, with the dev issuer's tokens. The
// app trusts only the X-Gatehouse-* headers nginx sets; a client's forged ones never reach it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CliProcess } from '../cli/cli-process.js';
import { startNginx } from '../helpers/nginx.js';
import type { RunningProxy } from '../helpers/proxy-process.js';
import { rawRequest } from '../helpers/raw-http.js';
import { EXAMPLE_DIR, FastApiApp, assertPythonToolchain } from './fastapi-app.js';

describe('examples/fastapi behind nginx and gatehouse forward auth', () => {
  let dev: CliProcess;
  let app: FastApiApp;
  let nginx: RunningProxy;
  let issuerUrl: string;

  const mint = async (body: Record<string, unknown>): Promise<string> => {
    const res = await fetch(`${issuerUrl}/mint`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    assert.equal(res.status, 200);
    return ((await res.json()) as { token: string }).token;
  };
  const send = (method: string, target: string, headers: [string, string][] = []) => rawRequest(nginx.port, method, target, headers);

  before(async () => {
    assertPythonToolchain();
    dev = new CliProcess(['dev', '--grpc', '127.0.0.1:0', '--http', '127.0.0.1:0', '--issuer-port', '0']);
    const httpPort = Number(/HTTP\s+http:\/\/127\.0\.0\.1:(\d+)/.exec(await dev.waitForLine(/^\s+HTTP\s/))![1]);
    issuerUrl = /issuer\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(await dev.waitForLine(/^\s+issuer\s/))![1]!;
    // Proxy mode needs no stubs: it reads headers only.
    app = await FastApiApp.start({ GATEHOUSE_MODE: 'proxy' }, [EXAMPLE_DIR]);
    nginx = await startNginx(httpPort, Number(new URL(app.url).port));
  });
  after(async () => {
    await nginx?.stop();
    await app?.kill();
    await dev?.kill();
  });

  it("a reader's GET reaches the app, which answers with the subject and roles gatehouse vouched for", async () => {
    const token = await mint({ sub: 'alice', roles: ['Orders.Read'] });
    const res = await send('GET', '/orders/42', [['Authorization', `Bearer ${token}`]]);
    assert.equal(res.status, 200, res.body);
    assert.deepEqual(JSON.parse(res.body), { id: '42', subject: 'alice', roles: ['Orders.Read'] });
  });

  it("a forged X-Gatehouse-Subject never reaches the app: the subject is the token's, or the request is refused", async () => {
    const token = await mint({ sub: 'alice', roles: ['Orders.Read'] });
    const forged: [string, string] = ['X-Gatehouse-Subject', 'mallory'];
    const withToken = await send('GET', '/orders/42', [['Authorization', `Bearer ${token}`], forged]);
    assert.equal(withToken.status, 200, withToken.body);
    assert.equal((JSON.parse(withToken.body) as { subject: string }).subject, 'alice');
    const withoutToken = await send('GET', '/orders/42', [forged, ['X-Gatehouse-Roles', 'Orders.Admin']]);
    assert.equal(withoutToken.status, 401);
    assert.equal(withoutToken.header('x-gatehouse-reason'), 'TOKEN_MISSING');
  });

  it('refusals stop at nginx with the reason and the challenge: 403 for a reader deleting, 401 for a bad token', async () => {
    const reader = await mint({ sub: 'alice', roles: ['Orders.Read'] });
    const deleted = await send('DELETE', '/orders/42', [['Authorization', `Bearer ${reader}`]]);
    assert.equal(deleted.status, 403);
    assert.equal(deleted.header('x-gatehouse-reason'), 'MISSING_ROLE');
    assert.match(deleted.header('www-authenticate') ?? '', /error="insufficient_scope"/);
    const garbled = await send('GET', '/orders/42', [['Authorization', 'Bearer not.a.token']]);
    assert.equal(garbled.status, 401);
    assert.match(garbled.header('www-authenticate') ?? '', /error="invalid_token"/);
    const admin = await mint({ sub: 'root', roles: ['Orders.Admin'] });
    assert.equal((await send('DELETE', '/orders/42', [['Authorization', `Bearer ${admin}`]])).status, 200);
  });

  it('/orders/../admin and /orders/..%2fadmin are no /orders/* request', async () => {
    const reader = await mint({ sub: 'alice', roles: ['Orders.Read', 'Orders.Admin'] });
    for (const target of ['/orders/../admin', '/orders/..%2fadmin']) {
      const res = await send('GET', target, [['Authorization', `Bearer ${reader}`]]);
      assert.notEqual(res.status, 200, target);
      assert.ok(res.status >= 400, `${target}: ${res.status}`);
    }
  });
});
