// failOpen acts only when the question provably never reached gatehouse (nothing listening, no HTTP/2
// connection): never on a timeout (an attacker's unknown kid parks gatehouse on a hanging identity provider),
// a connection dropped mid-call, an UNAVAILABLE answer, or a closed AuthClient. Server side and egress alike.
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
  type AuthClientOptions,
  type ClientLogger,
} from '../../src/client/index.js';
import { startEntraServer, type EntraServer } from '../helpers/entra-server.js';
import { startTestGatehouse, type TestGatehouse } from '../helpers/gatehouse.js';
import { refusedAddress, startAnsweringUnavailable, startCuttableProxy, startHangUpListener } from './fixtures/broken-gatehouse.js';
import { bearer, Echo, startEchoServer, type EchoServer } from './fixtures/echo-service.js';
import { memoryLogger, refusal } from './fixtures/outcomes.js';
import { startSilentGatehouse, type SilentGatehouse } from './fixtures/silent-gatehouse.js';
import { startWorld, type World } from './fixtures/world.js';

const REFUSED = { code: status.UNAVAILABLE, reason: 'GATEHOUSE_UNAVAILABLE' };

describe('fail open', () => {
  let world: World;
  let silent: SilentGatehouse;
  let reader: string;
  const closers: Array<() => unknown> = [];
  const later = <T extends { close(): unknown }>(thing: T): T => {
    closers.push(() => thing.close());
    return thing;
  };
  const authClient = (options: AuthClientOptions) => later(createAuthClient({ logger: memoryLogger().logger, ...options }));
  async function failOpenEcho(gate: AuthClient, logger?: ClientLogger): Promise<{ server: EchoServer; echo: Echo }> {
    const server = later(
      await startEchoServer([createServerInterceptor({ authClient: gate, failOpen: true, ...(logger ? { logger } : {}) })]),
    );
    return { server, echo: later(new Echo(server.address)) };
  }

  before(async () => {
    [world, silent] = await Promise.all([startWorld(), startSilentGatehouse()]);
    reader = await world.token('reader');
  });
  after(async () => {
    for (const close of closers.reverse()) await close();
    silent.close();
    await world.close();
  });

  it('gatehouse never reached (nothing listening, no HTTP/2): calls pass without a principal, loudly, rate limited', async () => {
    const { logger, lines } = memoryLogger();
    const registry = new Registry();
    const gate = authClient({ address: await refusedAddress(), registry, logger });
    const { echo } = await failOpenEcho(gate);
    assert.equal(lines.length, 1);
    assert.match(lines[0]!.message, /failOpen is ON/);

    const said = await Promise.all([1, 2, 3, 4, 5].map((i) => echo.unary('Say', `open-${i}`, bearer(reader))));
    assert.ok(
      said.every((s) => s.subject === undefined),
      'let through, with no principal',
    );
    assert.equal(lines.length, 2, 'one warning for five let-throughs within the interval');
    assert.match(lines[1]!.message, /FAIL OPEN/);
    assert.equal(lines[1]!.fields.method, '/test.v1.Echo/Say');
    assert.match(await registry.metrics(), /gatehouse_client_fail_open_total\{side="server"\} 5/);

    const hangUp = later(await startHangUpListener());
    const other = await failOpenEcho(authClient({ address: hangUp.address }));
    assert.equal((await other.echo.unary('Say', 'x', bearer(reader))).subject, undefined);

    // A decision still counts: failOpen never turns a denial into an allow.
    const strict = await failOpenEcho(authClient({ address: world.gatehouseAddress }), logger);
    assert.equal((await refusal(strict.echo.unary('Shout', 'x', bearer(reader)))).code, status.PERMISSION_DENIED);
  });

  it('never on a timeout: gatehouse silent past the deadline refuses the call', async () => {
    const { logger, lines } = memoryLogger();
    const registry = new Registry();
    const { server, echo } = await failOpenEcho(authClient({ address: silent.address, deadlineMs: 150, registry, logger }));
    assert.deepEqual(await refusal(echo.unary('Say', 'x', bearer(reader))), REFUSED);
    assert.equal(server.seen.calls.get('Say'), undefined);
    assert.deepEqual(
      lines.map((l) => l.message).filter((m) => /FAIL OPEN/.test(m)),
      [],
    );
    assert.match(await registry.metrics(), /gatehouse_client_fail_closed_total\{side="server"\} 1/);
    assert.doesNotMatch(await registry.metrics(), /gatehouse_client_fail_open_total\{side="server"\}/);
  });

  it('never on a timeout an attacker causes: a forged token while gatehouse waits on a hanging identity provider', async () => {
    const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
    const AUD = 'api://echo';
    // The identity provider accepts connections and never answers: gatehouse holds no keys yet, so a token's
    // check waits on the key fetch (up to keys.fetch_timeout), well past the AuthClient's deadline.
    const held: Array<() => void> = [];
    const hanging: typeof fetch = (_input, init) =>
      new Promise((_, reject) => {
        held.push(() => reject(new Error('released')));
        init?.signal?.addEventListener('abort', () => reject(init.signal!.reason));
      });
    const entra: EntraServer = await startEntraServer();
    const gh: TestGatehouse = await startTestGatehouse(
      {
        issuers: [{ id: 'contoso', type: 'entra', tenant: TENANT, authority: entra.base, audiences: [AUD], token_versions: [2] }],
        rules: [{ id: 'echo', actions: ['/test.v1.Echo/*'], any_roles: ['Echo.Admin'] }],
        keys: { fetch_timeout: '10s' },
      },
      { level: 'silent', fetch: hanging, waitForKeys: false },
    );
    try {
      const registry = new Registry();
      const { server, echo } = await failOpenEcho(authClient({ address: gh.address, deadlineMs: 300, registry }));
      // A real token's header with a kid nobody publishes, the claims the attacker wants, a garbage signature.
      const real = await entra.mint({ version: 2, tid: TENANT, aud: AUD });
      const [header, payload] = real
        .split('.')
        .slice(0, 2)
        .map((part) => JSON.parse(Buffer.from(part, 'base64url').toString()) as object);
      const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
      const forged = [b64({ ...header, kid: 'attacker-kid-1' }), b64({ ...payload, sub: 'mallory', roles: ['Echo.Admin'] })].join('.');
      const started = Date.now();
      assert.deepEqual(
        await refusal(echo.unary('Say', 'forged', bearer(`${forged}.${Buffer.alloc(256, 1).toString('base64url')}`))),
        REFUSED,
      );
      assert.ok(Date.now() - started < 2000, 'refused at the AuthClient deadline');
      assert.ok(held.length >= 1, 'gatehouse was waiting on the identity provider');
      assert.equal(server.seen.calls.get('Say'), undefined, 'the handler never ran');
      assert.match(await registry.metrics(), /gatehouse_client_fail_closed_total\{side="server"\} 1/);
    } finally {
      for (const release of held) release();
      await gh.close();
      await entra.close();
    }
  });

  it('never on a connection dropped mid-call, nor on an answer that says UNAVAILABLE', async () => {
    const proxy = later(await startCuttableProxy(silent.address));
    // Retries and re-sends off: they would re-ask the silent impostor until the deadline (balancing.test.ts has them).
    const once = { retry: false, resends: 0 } as const;
    const cut = await failOpenEcho(authClient({ address: proxy.address, deadlineMs: 5000, ...once }));
    const calls = silent.calls();
    const pending = refusal(cut.echo.unary('Say', 'x', bearer(reader)));
    while (silent.calls() === calls) await new Promise((r) => setTimeout(r, 5));
    proxy.cut();
    assert.deepEqual(await pending, REFUSED);

    const answering = later(await startAnsweringUnavailable());
    const answered = await failOpenEcho(authClient({ address: answering.address, ...once }));
    assert.deepEqual(await refusal(answered.echo.unary('Say', 'x', bearer(reader))), REFUSED);
    assert.equal(answering.calls(), 1);
    assert.equal((cut.server.seen.calls.get('Say') ?? 0) + (answered.server.seen.calls.get('Say') ?? 0), 0);
  });

  it('never after close(): a call without any token is refused with UNAVAILABLE', async () => {
    const { logger, lines } = memoryLogger();
    const gate = authClient({ address: world.gatehouseAddress, logger });
    const { server, echo } = await failOpenEcho(gate);
    const open = later(await startEchoServer([]));
    const egress = later(
      new Echo(open.address, [createClientInterceptor({ token: staticToken(reader), egress: { authClient: gate, failOpen: true } })]),
    );
    assert.equal((await refusal(echo.unary('Say', 'x'))).code, status.UNAUTHENTICATED);

    gate.close(); // say, a shutdown hook, while the server still drains
    assert.deepEqual(await refusal(echo.unary('Say', 'x')), REFUSED);
    assert.deepEqual(await refusal(echo.unary('Say', 'x', bearer(reader))), REFUSED);
    assert.deepEqual(await refusal(egress.unary('Say', 'x')), REFUSED);
    assert.equal(server.seen.calls.get('Say'), undefined);
    assert.equal(open.seen.calls.get('Say'), undefined);
    assert.equal(lines.filter((l) => /FAIL OPEN/.test(l.message)).length, 0);
  });

  it('egress: sent unchecked only when gatehouse was never reached; refused locally on a timeout', async () => {
    const open = later(await startEchoServer([]));
    const through = (gate: AuthClient) =>
      later(
        new Echo(open.address, [createClientInterceptor({ token: staticToken(reader), egress: { authClient: gate, failOpen: true } })]),
      );
    const registry = new Registry();
    const unreachable = through(authClient({ address: await refusedAddress(), registry }));
    assert.equal((await unreachable.unary('Say', 'sent')).text, 'sent');
    assert.match(await registry.metrics(), /gatehouse_client_fail_open_total\{side="egress"\} 1/);

    const slow = through(authClient({ address: silent.address, deadlineMs: 150 }));
    assert.deepEqual(await refusal(slow.unary('Say', 'kept')), REFUSED);
    assert.equal(open.seen.calls.get('Say'), 1, 'only the call that could not be checked at all went out');
  });
});
