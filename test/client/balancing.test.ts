// The AuthClient's default channel against real listeners on 127.0.0.1:0: round_robin over an `ipv4:` list of
// two gatehouses, the gRPC retry policy (RESOURCE_EXHAUSTED, UNAVAILABLE; never an answer), re-sends of a call
// that died after its response headers, keepalive pings gatehouse's server accepts and that notice a replica
// gone silent, and the loopback check over address lists.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { status } from '@grpc/grpc-js';
import { Registry } from 'prom-client';
import { createAuthClient, type AuthClient, type AuthClientOptions } from '../../src/client/index.js';
import { startTestGatehouse, type TestGatehouse } from '../helpers/gatehouse.js';
import { LOOPBACK_AUDIENCE, startLoopbackIssuer, type LoopbackIssuer } from '../verification/loopback-issuer.js';
import { startCuttableProxy } from './fixtures/broken-gatehouse.js';
import { startScriptedGatehouse, type ScriptedGatehouse } from './fixtures/scripted-gatehouse.js';

const ACTION = '/orders.v1.Orders/GetOrder';

/** Waits (bounded) until `condition` holds; fails the test otherwise. */
async function eventually(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function counted(registry: Registry, name: string, labels: string): Promise<number> {
  const line = (await registry.metrics()).split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  return Number(line?.split(' ').at(-1) ?? 0);
}

describe('AuthClient channel: balancing, retries, re-sends, keepalive', () => {
  let issuer: LoopbackIssuer;
  let replicas: TestGatehouse[];
  let token: string;
  const clients: AuthClient[] = [];
  const scripted: ScriptedGatehouse[] = [];
  const client = (options: AuthClientOptions) => {
    // A deadline above this busy machine's worst pauses (the tests count attempts, never time).
    const c = createAuthClient({ cache: false, deadlineMs: 5000, ...options });
    clients.push(c);
    return c;
  };
  const script = async (steps: Parameters<typeof startScriptedGatehouse>[0]) => {
    const s = await startScriptedGatehouse(steps);
    scripted.push(s);
    return s;
  };
  const answered = (replica: TestGatehouse) => replica.logs.audit().length;

  before(async () => {
    issuer = await startLoopbackIssuer();
    const config = {
      issuers: [{ id: 'loop', type: 'oidc', issuer: issuer.issuer, audiences: [LOOPBACK_AUDIENCE] }],
      rules: [{ id: 'read', actions: [ACTION], any_roles: ['Orders.Read'] }],
      logging: { level: 'info' },
    };
    replicas = await Promise.all([startTestGatehouse(config, { level: 'info' }), startTestGatehouse(config, { level: 'info' })]);
    token = issuer.token({ claims: { roles: ['Orders.Read'] } });
  });
  after(async () => {
    for (const c of clients) c.close();
    for (const s of scripted) s.close();
    await Promise.all(replicas.map((r) => r.close()));
    await issuer.close();
  });

  it('round_robin by default: an ipv4: list of loopback replicas needs no credentials, and every replica answers', async () => {
    const list = `ipv4:${replicas.map((r) => r.address).join(',')}`;
    const spread = client({ address: list });
    const before = replicas.map(answered);
    for (let i = 0; i < 20; i++) assert.ok((await spread.authorize(token, ACTION)).allowed);
    const calls = replicas.map((r, i) => answered(r) - before[i]!);
    assert.equal(calls[0]! + calls[1]!, 20);
    assert.ok(calls[0]! >= 5 && calls[1]! >= 5, `calls per replica: ${calls.join(', ')}`);

    // The choice is real: pick_first sends everything to one replica.
    const first = client({ address: list, loadBalancing: 'pick_first' });
    const beforeFirst = replicas.map(answered);
    for (let i = 0; i < 10; i++) assert.ok((await first.authorize(token, ACTION)).allowed);
    assert.deepEqual(replicas.map((r, i) => answered(r) - beforeFirst[i]!).sort(), [0, 10]);
  });

  it('the loopback check reads lists: every address must be loopback; one remote address needs credentials', () => {
    for (const local of ['ipv4:127.0.0.1:1,127.0.0.2:2', 'ipv6:[::1]:1,[::1]:2', 'dns:///localhost:1', 'ipv4:127.0.0.1']) {
      createAuthClient({ address: local }).close();
    }
    for (const remote of [
      'ipv4:127.0.0.1:1,10.0.0.7:2',
      'ipv4:10.0.0.7:1,127.0.0.1:2',
      'ipv4:127.0.0.1:1,',
      'ipv6:[::1]:1,[2001:db8::1]:2',
      'dns:///gatehouse-headless.auth.svc:50051',
      // A named DNS server answers for "localhost" as it likes; only an address literal is surely loopback.
      'dns://10.0.0.53/localhost:50051',
    ]) {
      assert.throws(
        () => createAuthClient({ address: remote }),
        { code: 'ERR_CLIENT_OPTIONS', message: /credentials is required/ },
        remote,
      );
    }
    createAuthClient({ address: 'dns://10.0.0.53/127.0.0.1:50051' }).close();
  });

  it('retries RESOURCE_EXHAUSTED and UNAVAILABLE refusals (trailers-only) on the retry policy; retry: false does not', async () => {
    for (const code of [status.RESOURCE_EXHAUSTED, status.UNAVAILABLE]) {
      const shedding = await script((n) => (n === 1 ? { code } : 'allow'));
      assert.ok((await client({ address: shedding.address }).authorize(token, ACTION)).allowed, status[code]);
      assert.equal(shedding.calls(), 2, status[code]);
    }
    const once = await script((n) => (n === 1 ? { code: status.RESOURCE_EXHAUSTED } : 'allow'));
    await assert.rejects(client({ address: once.address, retry: false }).authorize(token, ACTION), {
      code: 'ERR_GATEHOUSE_CALL_FAILED',
      grpcCode: status.RESOURCE_EXHAUSTED,
    });
    assert.equal(once.calls(), 1);
  });

  it('never re-asks after an answer: a denial, or a status the policy does not name', async () => {
    const registry = new Registry();
    const denying = await script(() => 'deny');
    const denied = await client({ address: denying.address, registry }).authorize(token, ACTION);
    assert.equal(denied.allowed, false);
    assert.equal(denying.calls(), 1);
    const failing = await script(() => ({ code: status.INTERNAL }));
    await assert.rejects(client({ address: failing.address, registry }).verify(token), { code: 'ERR_GATEHOUSE_CALL_FAILED' });
    assert.equal(failing.calls(), 1);
    assert.equal(await counted(registry, 'gatehouse_client_resends_total', 'method="Authorize"'), 0);
  });

  it('an outage is not multiplied: against a replica refusing everything, retries and re-sends stop once most calls fail', async () => {
    const registry = new Registry();
    const down = await script(() => ({ code: status.UNAVAILABLE }));
    const gate = client({ address: down.address, registry });
    const attempts: number[] = [];
    for (let i = 0; i < 10; i++) {
      const before = down.calls();
      await assert.rejects(gate.authorize(token, ACTION), { code: 'ERR_GATEHOUSE_UNAVAILABLE' });
      attempts.push(down.calls() - before);
    }
    assert.ok(attempts[0]! > 1, `the first call is retried: ${attempts.join(', ')}`);
    assert.ok(attempts[0]! <= 3 * 3, 'at most 3 attempts for each of 1 + 2 sends');
    assert.deepEqual(attempts.slice(5), [1, 1, 1, 1, 1], `then one attempt each: ${attempts.join(', ')}`);
    const resends = await counted(registry, 'gatehouse_client_resends_total', 'method="Authorize"');
    assert.ok(resends >= 1 && resends <= 4, `re-sends ${resends}`);
  });

  it('a call cut off before any response headers (gatehouse sends them only with its answer) is retried by the policy alone', async () => {
    const registry = new Registry();
    const working = await script((n) => (n === 1 ? 'hang' : 'allow'));
    const proxy = await startCuttableProxy(working.address);
    try {
      const pending = client({ address: proxy.address, registry, resends: 0 }).authorize(token, ACTION);
      await eventually(() => working.calls() === 1, 'the first attempt reached the impostor');
      proxy.cut(); // as a SIGKILL does: the connection drops with the call in flight
      assert.ok((await pending).allowed);
      assert.equal(working.calls(), 2);
      assert.equal(await counted(registry, 'gatehouse_client_resends_total', 'method="Authorize"'), 0);
    } finally {
      await proxy.close();
    }
  });

  it('re-sends a call that died UNAVAILABLE after its response headers (committed: no retry policy may), and counts it', async () => {
    const registry = new Registry();
    const hanging = await script((n) => (n === 1 ? 'headers-then-hang' : 'allow'));
    const proxy = await startCuttableProxy(hanging.address);
    try {
      const gate = client({ address: proxy.address, registry });
      proxy.cutAfterResponseHeaders();
      assert.ok((await gate.authorize(token, ACTION)).allowed);
      assert.equal(hanging.calls(), 2);
      assert.equal(await counted(registry, 'gatehouse_client_resends_total', 'method="Authorize"'), 1);
      assert.equal(await counted(registry, 'gatehouse_client_call_duration_seconds_count', 'method="Authorize",code="OK"'), 1);
    } finally {
      await proxy.close();
    }

    // resends: 0 turns it off: the caller sees the dropped connection.
    const again = await script((n) => (n === 1 ? 'headers-then-hang' : 'allow'));
    const another = await startCuttableProxy(again.address);
    try {
      another.cutAfterResponseHeaders();
      await assert.rejects(client({ address: another.address, resends: 0 }).authorize(token, ACTION), {
        code: 'ERR_GATEHOUSE_UNAVAILABLE',
        grpcCode: status.UNAVAILABLE,
      });
      assert.equal(again.calls(), 1);
    } finally {
      await another.close();
    }
  });

  it('keepalive: gatehouse’s server accepts pings every 50 ms (one connection throughout), and a silent replica is dropped', async () => {
    const proxy = await startCuttableProxy(replicas[0]!.address);
    try {
      const gate = client({ address: proxy.address, keepalive: { timeMs: 50, timeoutMs: 200 } });
      assert.ok((await gate.authorize(token, ACTION)).allowed);
      await new Promise((resolve) => setTimeout(resolve, 600)); // a dozen pings, idle and during the calls below
      for (let i = 0; i < 5; i++) assert.ok((await gate.authorize(token, ACTION)).allowed);
      assert.equal(proxy.connections(), 1, 'no GOAWAY (too_many_pings), no reconnect');

      // The replica goes silent (no FIN, no RST): the unanswered ping drops the connection and the client reconnects.
      proxy.freeze();
      await eventually(() => proxy.connections() === 2, 'the client noticed the silent connection and reconnected');
      assert.ok((await gate.authorize(token, ACTION)).allowed);
    } finally {
      await proxy.close();
    }
  });

  it('refuses bad channel options, naming them', () => {
    const address = '127.0.0.1:1';
    const bad: [Partial<AuthClientOptions>, RegExp][] = [
      [{ retry: { maxAttempts: 1 } }, /retry.maxAttempts must be an integer from 2 to 5/],
      [{ retry: { maxAttempts: 6 } }, /retry.maxAttempts/],
      [{ retry: { initialBackoffMs: 0 } }, /retry.initialBackoffMs/],
      [{ retry: { retryableStatusCodes: ['OK'] } }, /retry.retryableStatusCodes/],
      [{ retry: { retryableStatusCodes: [] } }, /retry.retryableStatusCodes/],
      [{ resends: 6 }, /resends must be an integer from 0 to 5/],
      [{ resends: -1 }, /resends/],
      [{ keepalive: { timeMs: 0 } }, /keepalive.timeMs/],
      [{ loadBalancing: 'random' as 'pick_first' }, /loadBalancing must be/],
    ];
    for (const [options, message] of bad) {
      assert.throws(() => createAuthClient({ address, ...options }), { code: 'ERR_CLIENT_OPTIONS', message }, String(message));
    }
    createAuthClient({ address, retry: false, keepalive: false, resends: 0 }).close();
  });
});
