// The server interceptor against real servers: gatehouse trusting a real oidc-provider, the echo service
// protected by the interceptor, plain grpc-js clients sending tokens. Unary and all three streaming kinds.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { credentials, makeGenericClientConstructor, Metadata, status, type ServiceDefinition, type ServiceError } from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { createAuthClient, createServerInterceptor, DEFAULT_SKIPPED_METHODS, reasonOf, type AuthClient } from '../../src/client/index.js';
import { listServices } from '../helpers/reflection.js';
import { bearer, Echo, startEchoServer, type EchoServer } from './fixtures/echo-service.js';
import { startWorld, type World } from './fixtures/world.js';

/** The refusal a call ended with: its status code, `gatehouse-reason` and details. */
async function refusal(call: Promise<unknown>): Promise<{ code: number; reason: string | undefined; details: string }> {
  const err = (await call.then(
    () => assert.fail('the call was let through'),
    (e: unknown) => e,
  )) as ServiceError;
  return { code: err.code, reason: reasonOf(err), details: err.details };
}

describe('server interceptor', () => {
  let world: World;
  let authClient: AuthClient;
  let server: EchoServer;
  let echo: Echo;
  let reader: string;
  let admin: string;
  let nobody: string;

  before(async () => {
    world = await startWorld();
    authClient = createAuthClient({ address: world.gatehouseAddress });
    server = await startEchoServer([createServerInterceptor({ authClient })]);
    echo = new Echo(server.address);
    [reader, admin, nobody] = await Promise.all([world.token('reader'), world.token('admin'), world.token('nobody')]);
  });
  after(async () => {
    echo.close();
    authClient.close();
    await server.close();
    await world.close();
  });

  it('lets an allowed unary call through, with the principal for the handler by both routes', async () => {
    const said = await echo.unary('Say', 'hello', bearer(reader, 'req-1'));
    assert.equal(said.text, 'hello');
    assert.equal(said.subject, 'reader', 'principalOf(call)');
    assert.equal(said.alsSubject, 'reader', 'incomingCall() after an await in the handler');
    assert.equal(said.requestId, 'req-1', 'the caller’s x-request-id is kept');
    // Without one (or with one not sane), the handler reads a new id, one per call, answered from the cache or not.
    const ids = await Promise.all(
      [undefined, undefined, 'bad id!'].map(async (id) => (await echo.unary('Say', 'hi', bearer(reader, id))).requestId),
    );
    for (const id of ids) assert.match(id ?? '', /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(new Set(ids).size, ids.length, 'each call its own id');
    const principal = server.seen.principals.at(-1);
    assert.deepEqual(principal?.roles, ['echo.read']);
    assert.equal(principal?.issuer, world.op.issuer);
    assert.equal(principal?.appOnly, true);
  });

  it('refuses a call the rules do not allow with PERMISSION_DENIED and the reason, before the handler runs', async () => {
    const before = server.seen.calls.get('Shout') ?? 0;
    const r = await refusal(echo.unary('Shout', 'hey', bearer(reader)));
    assert.equal(r.code, status.PERMISSION_DENIED);
    assert.equal(r.reason, 'MISSING_ROLE');
    assert.match(r.details, /^MISSING_ROLE: /);
    assert.equal(server.seen.calls.get('Shout') ?? 0, before, 'the handler never ran');
    assert.equal((await echo.unary('Shout', 'hey', bearer(admin))).subject, 'admin');
  });

  it('refuses token problems with UNAUTHENTICATED: missing, malformed, a forged signature', async () => {
    const missing = await refusal(echo.unary('Say', 'x', new Metadata()));
    assert.deepEqual([missing.code, missing.reason], [status.UNAUTHENTICATED, 'TOKEN_MISSING']);
    const malformed = await refusal(echo.unary('Say', 'x', bearer('not-a-jwt')));
    assert.deepEqual([malformed.code, malformed.reason], [status.UNAUTHENTICATED, 'TOKEN_MALFORMED']);
    const [header, payload] = admin.split('.');
    const forged = `${header}.${payload}.${Buffer.alloc(256, 7).toString('base64url')}`;
    const signature = await refusal(echo.unary('Say', 'x', bearer(forged)));
    assert.deepEqual([signature.code, signature.reason], [status.UNAUTHENTICATED, 'SIGNATURE_INVALID']);
  });

  it('allows a public method without a token; the handler sees no principal', async () => {
    const said = await echo.unary('Public', 'anyone', new Metadata());
    assert.equal(said.subject, undefined);
  });

  it('protects server streaming: allowed streams every message with the principal, denied gets no message', async () => {
    const messages = await echo.count('n', 3, bearer(reader));
    assert.deepEqual(
      messages.map((m) => [m.text, m.subject, m.alsSubject]),
      [0, 1, 2].map((i) => [`n#${i}`, 'reader', 'reader']),
    );
    const r = await refusal(echo.count('n', 3, bearer(nobody)));
    assert.deepEqual([r.code, r.reason], [status.PERMISSION_DENIED, 'MISSING_ROLE']);
  });

  it('protects client streaming and bidi streaming alike', async () => {
    const collected = await echo.collect(['a', 'b', 'c'], bearer(reader));
    assert.deepEqual([collected.text, collected.subject], ['a,b,c', 'reader']);
    const chat = await echo.chat(['x', 'y'], bearer(reader));
    // 'data' handlers run inside the call's async context too.
    assert.deepEqual(
      chat.map((m) => [m.text, m.subject, m.alsSubject]),
      [
        ['x', 'reader', 'reader'],
        ['y', 'reader', 'reader'],
      ],
    );
    const calledBefore = server.seen.calls.get('Chat');
    const r1 = await refusal(echo.collect(['a'], bearer(nobody)));
    const r2 = await refusal(echo.chat(['a'], new Metadata()));
    assert.deepEqual(
      [r1.code, r1.reason, r2.code, r2.reason],
      [status.PERMISSION_DENIED, 'MISSING_ROLE', status.UNAUTHENTICATED, 'TOKEN_MISSING'],
    );
    assert.equal(server.seen.calls.get('Chat'), calledBefore, 'a refused stream never reaches its handler');
  });

  it('skips health checks by default: they answer without a token and without asking gatehouse', async () => {
    const audits = world.audits().length;
    const HealthClient = makeGenericClientConstructor(healthService as ServiceDefinition, 'Health');
    const health = new HealthClient(server.address, credentials.createInsecure()) as unknown as {
      Check(req: { service: string }, cb: (err: ServiceError | null, res?: { status: string }) => void): void;
      close(): void;
    };
    const response = await new Promise<{ status: string }>((resolve, reject) =>
      health.Check({ service: '' }, (err, res) => (err ? reject(err) : resolve(res!))),
    );
    health.close();
    assert.equal(response.status, 'SERVING');
    assert.equal(world.audits().length, audits);
    assert.ok(DEFAULT_SKIPPED_METHODS.includes('/grpc.health.v1.Health/'));
  });

  it('skips reflection by default: grpcurl-style listing works without a token and without asking gatehouse', async () => {
    const audits = world.audits().length;
    assert.ok((await listServices(server.address)).includes('gatehouse.v1.AuthService'));
    assert.equal(world.audits().length, audits);
  });

  it('skips the methods it is told to, and only those', async () => {
    const skipping = await startEchoServer([createServerInterceptor({ authClient, skip: ['/test.v1.Echo/Say'] })]);
    const client = new Echo(skipping.address);
    try {
      assert.equal((await client.unary('Say', 'free', new Metadata())).subject, undefined);
      assert.equal((await refusal(client.unary('Shout', 'x', new Metadata()))).code, status.UNAUTHENTICATED);
    } finally {
      client.close();
      await skipping.close();
    }
    assert.throws(() => createServerInterceptor({ authClient, skip: ['test.v1.Echo/Say'] }), { code: 'ERR_CLIENT_OPTIONS' });
  });

  it('refuses a skip list that would let every method through (/), and patterns it would not match', () => {
    for (const skip of [['/'], [...DEFAULT_SKIPPED_METHODS, '/'], ['/*'], ['/test.v1.Echo/*'], ['*']]) {
      assert.throws(() => createServerInterceptor({ authClient, skip }), { code: 'ERR_CLIENT_OPTIONS' }, JSON.stringify(skip));
    }
    assert.throws(() => createServerInterceptor({ authClient, skip: ['/'] }), /every method through unchecked/);
    assert.doesNotThrow(() => createServerInterceptor({ authClient, skip: [...DEFAULT_SKIPPED_METHODS, '/test.v1.Echo/'] }));
  });

  it('saves round trips: repeated and concurrent calls with one token cost one Authorize at gatehouse', async () => {
    const token = await world.token('reader');
    const count = () => world.audits().filter((a) => a.action === '/test.v1.Echo/Say').length;
    const before = count();
    await Promise.all(Array.from({ length: 20 }, (_, i) => echo.unary('Say', `c${i}`, bearer(token))));
    for (let i = 0; i < 20; i++) await echo.unary('Say', `s${i}`, bearer(token));
    assert.equal(count() - before, 1, '40 calls, one decision made by gatehouse');
    await echo.count('n', 1, bearer(token));
    assert.equal(world.audits().filter((a) => a.action === '/test.v1.Echo/Count').length > 0, true, 'another method is another decision');
  });

  /** An echo service behind an interceptor over `authClient` (made from `gate`), called with a reader's token. */
  async function behind(
    gate: AuthClient,
    options: Omit<Parameters<typeof createServerInterceptor>[0], 'authClient'> & { authClient?: AuthClient },
    calls: (client: Echo, token: string) => Promise<void>,
  ): Promise<void> {
    const guarded = await startEchoServer([createServerInterceptor({ authClient: gate, ...options })]);
    const client = new Echo(guarded.address);
    try {
      await calls(client, await world.token('reader'));
    } finally {
      client.close();
      gate.close();
      await guarded.close();
    }
  }

  it('answers a warm call from the local cache at once: authorize() is not even called', async () => {
    const gate = createAuthClient({ address: world.gatehouseAddress });
    // A spy on the library's own client (the same object, so its cache may answer).
    const authorize = gate.authorize.bind(gate);
    let asked = 0;
    (gate as { authorize: AuthClient['authorize'] }).authorize = (...args) => {
      asked += 1;
      return authorize(...args);
    };
    await behind(gate, {}, async (client, token) => {
      for (let i = 0; i < 5; i++) assert.equal((await client.unary('Say', `w${i}`, bearer(token))).subject, 'reader');
      await refusal(client.unary('Shout', 'x', bearer(token)));
      await refusal(client.unary('Shout', 'y', bearer(token)));
      assert.equal(asked, 2, 'one authorize() per question; the repeats were answered by cached()');
    });
  });

  it('asks a wrapped AuthClient’s own authorize on every call: a stricter wrapper can refuse a warm call', async () => {
    const gate = createAuthClient({ address: world.gatehouseAddress });
    let blocked = false;
    const stricter: AuthClient = {
      ...gate, // copies `cached` too: the interceptor must not use it for a wrapper
      authorize: (...args: Parameters<AuthClient['authorize']>) =>
        blocked ? Promise.reject(new Error('kill switch')) : gate.authorize(...args),
    };
    await behind(gate, { authClient: stricter }, async (client, token) => {
      assert.equal((await client.unary('Say', 'first', bearer(token))).subject, 'reader');
      blocked = true;
      const r = await refusal(client.unary('Say', 'second', bearer(token)));
      assert.equal(r.code, status.UNAVAILABLE, 'the wrapper refused, although the library’s cache holds an allow');
    });
  });

  it('an attributes function returning null asks the question without attributes', async () => {
    const gate = createAuthClient({ address: world.gatehouseAddress });
    await behind(gate, { attributes: () => null as never }, async (client, token) => {
      assert.equal((await client.unary('Say', 'a', bearer(token))).subject, 'reader');
      assert.equal((await client.unary('Say', 'b', bearer(token))).subject, 'reader', 'and again, from the cache');
    });
  });
});
