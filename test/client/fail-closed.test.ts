// Fail closed: gatehouse stopped or silent past the deadline → UNAVAILABLE, never through; recovery when a
// fresh gatehouse binds the same port. failOpen has its own file (fail-open.test.ts).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { status } from '@grpc/grpc-js';
import { Registry } from 'prom-client';
import {
  createAuthClient,
  createClientInterceptor,
  createServerInterceptor,
  staticToken,
  type AuthClient,
} from '../../src/client/index.js';
import { bearer, Echo, startEchoServer, type EchoServer } from './fixtures/echo-service.js';
import { refusal } from './fixtures/outcomes.js';
import { startSilentGatehouse, type SilentGatehouse } from './fixtures/silent-gatehouse.js';
import { startWorld, type World } from './fixtures/world.js';

describe('fail closed', () => {
  let world: World;
  let silent: SilentGatehouse;
  let reader: string;
  const closers: Array<() => unknown> = [];
  async function protectedEcho(authClient: AuthClient): Promise<{ server: EchoServer; echo: Echo }> {
    const server = await startEchoServer([createServerInterceptor({ authClient })]);
    const echo = new Echo(server.address);
    closers.push(
      () => echo.close(),
      () => server.close(),
    );
    return { server, echo };
  }

  before(async () => {
    [world, silent] = await Promise.all([startWorld(), startSilentGatehouse()]);
    reader = await world.token('reader');
  });
  after(async () => {
    for (const close of closers) await close();
    silent.close();
    await world.close();
  });

  it('gatehouse stopped: UNAVAILABLE with GATEHOUSE_UNAVAILABLE, handler never runs; back on the same port: calls pass again', async () => {
    const registry = new Registry();
    // No local cache here: every call needs gatehouse, as a fresh token would.
    const authClient = createAuthClient({ address: world.gatehouseAddress, cache: false, registry, deadlineMs: 300 });
    closers.push(() => authClient.close());
    const { server, echo } = await protectedEcho(authClient);
    assert.equal((await echo.unary('Say', 'up', bearer(reader))).subject, 'reader');

    await world.stopGatehouse();
    const calls = server.seen.calls.get('Say');
    for (const r of await Promise.all([1, 2, 3].map(() => refusal(echo.unary('Say', 'down', bearer(reader)))))) {
      assert.deepEqual(r, { code: status.UNAVAILABLE, reason: 'GATEHOUSE_UNAVAILABLE' });
    }
    assert.equal(server.seen.calls.get('Say'), calls, 'nothing reached the handler');
    assert.match(await registry.metrics(), /gatehouse_client_fail_closed_total\{side="server"\} 3/);

    await world.restartGatehouse();
    const deadline = Date.now() + 10_000;
    let said;
    while (!said && Date.now() < deadline) {
      said = await echo.unary('Say', 'back', bearer(reader)).catch(() => undefined);
      if (!said) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(said?.subject, 'reader', 'recovered once gatehouse is back');
  });

  it('gatehouse silent past the deadline: UNAVAILABLE, not a hang and not a pass', async () => {
    const authClient = createAuthClient({ address: silent.address, deadlineMs: 150 });
    closers.push(() => authClient.close());
    const { echo } = await protectedEcho(authClient);
    const started = Date.now();
    assert.deepEqual(await refusal(echo.unary('Say', 'x', bearer(reader))), { code: status.UNAVAILABLE, reason: 'GATEHOUSE_UNAVAILABLE' });
    assert.ok(Date.now() - started < 2000);
  });

  it('egress check with gatehouse silent: refused locally with UNAVAILABLE', async () => {
    const authClient = createAuthClient({ address: silent.address, deadlineMs: 150 });
    closers.push(() => authClient.close());
    const deciding = createAuthClient({ address: world.gatehouseAddress });
    closers.push(() => deciding.close());
    const { server } = await protectedEcho(deciding);
    const echo = new Echo(server.address, [createClientInterceptor({ token: staticToken(reader), egress: { authClient } })]);
    closers.push(() => echo.close());
    assert.deepEqual(await refusal(echo.unary('Say', 'x')), { code: status.UNAVAILABLE, reason: 'GATEHOUSE_UNAVAILABLE' });
  });
});
