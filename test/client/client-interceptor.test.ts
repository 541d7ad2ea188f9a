// The client interceptor against real servers: what it attaches, the egress check that refuses before the
// network, propagation of the incoming token through two protected services, and local failures.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import {
  createAuthClient,
  createClientInterceptor,
  createServerInterceptor,
  propagatedToken,
  reasonOf,
  staticToken,
  tokenFrom,
  type AuthClient,
} from '../../src/client/index.js';
import { Echo, startEchoServer, type EchoServer } from './fixtures/echo-service.js';
import { startWorld, type World } from './fixtures/world.js';

async function refusal(call: Promise<unknown>): Promise<{ code: number; reason: string | undefined; details: string }> {
  const err = (await call.then(
    () => assert.fail('the call was let through'),
    (e: unknown) => e,
  )) as ServiceError;
  return { code: err.code, reason: reasonOf(err), details: err.details };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('client interceptor', () => {
  let world: World;
  let authClient: AuthClient;
  let open: EchoServer; // no interceptor: shows what arrived
  let reader: string;
  const clients: Echo[] = [];
  const servers: EchoServer[] = [];
  const client = (address: string, ...interceptors: Parameters<typeof createClientInterceptor>[0][]) => {
    const c = new Echo(address, interceptors.map(createClientInterceptor));
    clients.push(c);
    return c;
  };

  before(async () => {
    world = await startWorld();
    authClient = createAuthClient({ address: world.gatehouseAddress });
    open = await startEchoServer([]);
    servers.push(open);
    reader = await world.token('reader');
  });
  after(async () => {
    for (const c of clients) c.close();
    authClient.close();
    await Promise.all(servers.map((s) => s.close()));
    await world.close();
  });

  it('attaches the bearer token and a new x-request-id, or keeps the caller’s', async () => {
    const echo = client(open.address, { token: staticToken(reader) });
    const said = await echo.unary('Say', 'hi');
    assert.equal(said.authorization, `Bearer ${reader}`);
    assert.match(said.metadataRequestId ?? '', UUID);
    const given = new Metadata();
    given.set('x-request-id', 'trace-42');
    assert.equal((await echo.unary('Say', 'hi', given)).metadataRequestId, 'trace-42');
  });

  it('asks a function provider on every call', async () => {
    let asked = 0;
    const echo = client(open.address, { token: tokenFrom(() => `Bearer token-${++asked}`) });
    await echo.unary('Say', 'a');
    const said = await echo.unary('Say', 'b');
    assert.equal(said.authorization, 'Bearer token-2');
  });

  it('egress check: a call the token may not make is refused locally and never reaches the network', async () => {
    const echo = client(open.address, { token: staticToken(reader), egress: { authClient } });
    const before = open.seen.calls.get('Shout') ?? 0;
    const r = await refusal(echo.unary('Shout', 'x'));
    assert.deepEqual([r.code, r.reason], [status.PERMISSION_DENIED, 'MISSING_ROLE']);
    assert.equal(open.seen.calls.get('Shout') ?? 0, before);
    assert.equal((await echo.unary('Say', 'ok')).text, 'ok', 'an allowed call goes out');
    const bad = client(open.address, { token: staticToken('garbage'), egress: { authClient } });
    const t = await refusal(bad.unary('Say', 'x'));
    assert.deepEqual([t.code, t.reason], [status.UNAUTHENTICATED, 'TOKEN_MALFORMED']);
  });

  it('propagates the incoming call’s token and request id to a downstream protected service', async () => {
    const back = await startEchoServer([createServerInterceptor({ authClient })]);
    servers.push(back);
    const downstream = client(back.address, { token: propagatedToken() });
    const front = await startEchoServer([createServerInterceptor({ authClient })], (text) => downstream.unary('Say', `via front: ${text}`));
    servers.push(front);
    const echo = client(front.address, { token: staticToken(reader) });
    const given = new Metadata();
    given.set('x-request-id', 'chain-7');
    const said = await echo.unary('Say', 'hello', given);
    const seenBack = JSON.parse(said.text) as { text: string; subject: string; requestId: string; authorization: string };
    assert.equal(said.subject, 'reader');
    assert.equal(seenBack.text, 'via front: hello');
    assert.equal(seenBack.subject, 'reader', 'the back service decided on the original caller');
    assert.equal(seenBack.authorization, `Bearer ${reader}`);
    assert.equal(seenBack.requestId, 'chain-7', 'the request id travels along');
  });

  it('propagation outside an incoming call refuses locally with TOKEN_MISSING', async () => {
    const echo = client(open.address, { token: propagatedToken() });
    const r = await refusal(echo.unary('Say', 'x'));
    assert.deepEqual([r.code, r.reason], [status.UNAUTHENTICATED, 'TOKEN_MISSING']);
  });

  it('a failing token provider refuses locally; a hanging one ends at the call’s deadline; cancel ends it too', async () => {
    const before = open.seen.calls.get('Say') ?? 0;
    const failing = client(open.address, { token: tokenFrom(() => Promise.reject(new Error('vault sealed'))) });
    const r = await refusal(failing.unary('Say', 'x'));
    assert.deepEqual([r.code, r.reason], [status.UNAUTHENTICATED, 'TOKEN_UNAVAILABLE']);

    const hanging = client(open.address, { token: tokenFrom(() => new Promise<string>(() => {})) });
    const started = Date.now();
    const d = await refusal(hanging.unary('Say', 'x', new Metadata(), { deadline: Date.now() + 200 }));
    assert.equal(d.code, status.DEADLINE_EXCEEDED);
    assert.ok(Date.now() - started < 2000);

    const call = hanging.raw.Count({ text: 'x', n: 1 }, new Metadata(), {});
    const ended = new Promise<ServiceError>((resolve) => call.on('error', resolve));
    call.cancel();
    assert.equal((await ended).code, status.CANCELLED);
    assert.equal(open.seen.calls.get('Say') ?? 0, before, 'nothing was sent');
  });
});
