// server.max_inflight bounds work, not the bytes a slow or hostile client leaves unsent or unread: a gRPC stream
// whose request never half-closes, a client that never opens its flow-control window, and an HTTP/1.1 client that
// pipelines forwards and never reads the answers hold no slot, so none of them can make gatehouse shed real calls.
// No timing: each test waits until gatehouse has provably handled the attacker's requests (the HTTP/2 frames of one
// connection are handled in order; the metrics count the forwards), then makes a real call.
import assert from 'node:assert/strict';
import { connect as connectH2, type ClientHttp2Session } from 'node:http2';
import { connect as connectTcp, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startTestGatehouse, until, type TestGatehouse } from '../helpers/gatehouse.js';
import { rawRequest } from '../helpers/raw-http.js';
import { parseExposition, valueOf } from '../telemetry/exposition.js';
import { LOOPBACK_AUDIENCE, startLoopbackIssuer, type LoopbackIssuer } from '../verification/loopback-issuer.js';

const MAX_INFLIGHT = 8;
const VERIFY = { ':method': 'POST', ':path': '/gatehouse.v1.AuthService/Verify', 'content-type': 'application/grpc', te: 'trailers' };
/** An empty VerifyRequest, length-prefixed. */
const EMPTY_MESSAGE = Buffer.from([0, 0, 0, 0, 0]);

describe('admission cannot be held by clients that do not finish', () => {
  let issuer: LoopbackIssuer;
  let gh: TestGatehouse;
  let token: string;
  const sessions: ClientHttp2Session[] = [];
  const sockets: Socket[] = [];
  before(async () => {
    issuer = await startLoopbackIssuer();
    gh = await startTestGatehouse(
      {
        server: { max_inflight: MAX_INFLIGHT },
        issuers: [{ id: 'idp', type: 'oidc', issuer: issuer.issuer, audiences: [LOOPBACK_AUDIENCE] }],
        rules: [{ id: 'orders', actions: ['orders:read', 'GET /orders/*'], any_roles: ['Orders.Read'] }],
      },
      { level: 'silent' },
    );
    token = issuer.token({ claims: { roles: ['Orders.Read'] } });
  });
  after(async () => {
    for (const s of sessions) s.destroy();
    for (const s of sockets) s.destroy();
    await gh.close();
    await issuer.close();
  });

  const realCallsAreServed = async () => {
    const grpc = await gh.client.authorize(token, 'orders:read');
    assert.equal(grpc.response.allowed, true, 'gRPC Authorize');
    const http = await rawRequest(gh.gatehouse.httpPort, 'GET', '/v1/authz', [
      ['X-Original-Method', 'GET'],
      ['X-Original-URI', '/orders/1'],
      ['Authorization', `Bearer ${token}`],
    ]);
    assert.equal(http.status, 200, `forward auth: ${http.status} ${http.header('x-gatehouse-reason') ?? ''}`);
  };

  it('requests that never half-close hold no slot', async () => {
    const session = connectH2(`http://${gh.address}`);
    sessions.push(session);
    for (let i = 0; i < MAX_INFLIGHT * 2; i++) {
      const stream = session.request(VERIFY, { endStream: false });
      stream.on('error', () => {});
      stream.write(EMPTY_MESSAGE); // the whole message, and never END_STREAM
    }
    // One complete request after them on the same connection: once it is answered, the others were handled.
    const last = session.request(VERIFY);
    last.on('error', () => {});
    last.end(EMPTY_MESSAGE);
    const answered = new Promise<void>((resolve) => last.on('close', () => resolve()));
    last.resume();
    await answered;
    await realCallsAreServed();
    session.destroy();
  });

  it('a client that never opens its flow-control window holds no slot', async () => {
    const session = connectH2(`http://${gh.address}`, { settings: { initialWindowSize: 0 } });
    sessions.push(session);
    const answered = Array.from({ length: MAX_INFLIGHT * 2 }, () => {
      const stream = session.request(VERIFY);
      stream.on('error', () => {});
      stream.end(EMPTY_MESSAGE);
      // Headers go out with the answer (they are not flow-controlled): the call was handled, its body never sent.
      return new Promise<void>((resolve) => stream.on('response', () => resolve()));
    });
    await Promise.all(answered);
    await realCallsAreServed();
    session.destroy();
  });

  it('pipelined forwards whose answers are never read hold no slot', async () => {
    const forward = `GET /v1/authz HTTP/1.1\r\nHost: x\r\nX-Original-Method: GET\r\nX-Original-URI: /orders/1\r\nAuthorization: Bearer ${token}\r\n\r\n`;
    for (let c = 0; c < 4; c++) {
      const socket = connectTcp(gh.gatehouse.httpPort, '127.0.0.1');
      socket.pause(); // never reads
      socket.on('error', () => {});
      socket.write(forward.repeat(5000));
      sockets.push(socket);
    }
    const handled = async () => {
      const samples = parseExposition((await gh.gatehouse.metrics.exposition()).body);
      const decided = samples.filter((s) => s.name === 'gatehouse_decisions_total').reduce((sum, s) => sum + s.value, 0);
      return decided + (valueOf(samples, 'gatehouse_shed_calls_total', { door: 'http' }) ?? 0) >= MAX_INFLIGHT * 20;
    };
    // Pipelined forwards are concurrent work: some may be shed while they run. Once handled, they hold nothing.
    await until(handled, 'the pipelined forwards to be handled');
    await realCallsAreServed();
  });
});
