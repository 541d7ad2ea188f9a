// SIGTERM under load, on a real `gatehouse serve`: every call in flight on every door (gRPC Authorize, Envoy Check,
// HTTP /v1/authz over keep-alive connections) completes; new calls are refused (UNAVAILABLE, 503 SHUTTING_DOWN);
// the process exits 0. And when a call never finishes, the process still exits once server.shutdown_grace has passed.
// No timing: the in-flight calls are held by the identity provider's first key fetch, which the test gates.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { Agent, createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { status, type ServiceError } from '@grpc/grpc-js';
import { EnvoyTestClient } from '../helpers/envoy-client.js';
import { AuthTestClient, until } from '../helpers/gatehouse.js';
import { parseExposition, valueOf } from '../telemetry/exposition.js';
import { LOOPBACK_AUDIENCE, startLoopbackIssuer, type LoopbackIssuer } from '../verification/loopback-issuer.js';
import { CliProcess, tempDir } from './cli-process.js';

const ACTION = 'orders:read';
const PER_DOOR = 3;

/** The issuer's JWKS, answered only once `open()` is called (a slow identity provider, under the test's control). */
async function gatedJwks(issuer: LoopbackIssuer): Promise<{ url: string; open(): void; close(): Promise<void> }> {
  let open = () => {};
  const gate = new Promise<void>((resolve) => (open = resolve));
  const server: Server = createServer((_req, res) => {
    void gate
      .then(() => fetch(`${issuer.issuer}/jwks`))
      .then(async (upstream) => res.writeHead(upstream.status, { 'content-type': 'application/json' }).end(await upstream.text()));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`,
    open,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function configJson(issuer: LoopbackIssuer, jwksUri: string, grace: string): string {
  return JSON.stringify({
    server: { grpc: '127.0.0.1:0', http: '127.0.0.1:0', shutdown_grace: grace },
    issuers: [{ id: 'idp', type: 'oidc', issuer: issuer.issuer, jwks_uri: jwksUri, audiences: [LOOPBACK_AUDIENCE] }],
    keys: { fetch_timeout: '60s' },
    rules: [{ id: 'orders', actions: [ACTION, 'GET /orders/*'], any_roles: ['Orders.Read'] }],
  });
}

interface Doors {
  grpc: AuthTestClient;
  envoy: EnvoyTestClient;
  agent: Agent;
  httpPort: number;
  metricsUrl: string;
}

async function startServe(file: string): Promise<{ serve: CliProcess; doors: Doors }> {
  const serve = new CliProcess(['serve', '--config', file]);
  const listening = await serve.waitForLog('gatehouse listening');
  const address = `127.0.0.1:${String(listening.grpc)}`;
  const httpPort = Number(listening.http);
  return {
    serve,
    doors: {
      grpc: new AuthTestClient(address),
      envoy: new EnvoyTestClient(address),
      // Keep-alive, as nginx and Caddy keep their connections to gatehouse.
      agent: new Agent({ keepAlive: true, maxSockets: PER_DOOR }),
      httpPort,
      metricsUrl: `http://127.0.0.1:${httpPort}/metrics`,
    },
  };
}

/** A forward as nginx sends it (over the keep-alive agent, or a connection of its own): status, reason, `connection`. */
function forward(
  doors: Doors,
  token: string,
  agent: Agent | false = doors.agent,
): Promise<{ status: number; reason: string | undefined; connection: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: doors.httpPort,
        path: '/v1/authz',
        agent,
        headers: { 'x-original-method': 'GET', 'x-original-uri': '/orders/42', authorization: `Bearer ${token}` },
      },
      (res) => {
        res.resume();
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            reason: res.headers['x-gatehouse-reason'] as string | undefined,
            connection: res.headers.connection,
          }),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}

async function inFlight(doors: Doors): Promise<number> {
  const samples = parseExposition(await (await fetch(doors.metricsUrl)).text());
  return ['grpc', 'envoy', 'http'].reduce((sum, door) => sum + (valueOf(samples, 'gatehouse_inflight_calls', { door }) ?? 0), 0);
}

/** PER_DOOR calls on each door, all parked on the gated key fetch; resolves once the server holds every one. */
async function callsInFlight(doors: Doors, token: string) {
  const calls = {
    grpc: Array.from({ length: PER_DOOR }, () => doors.grpc.authorize(token, ACTION, { deadlineMs: 60_000 })),
    envoy: Array.from({ length: PER_DOOR }, () =>
      doors.envoy.check({ path: '/orders/42', headers: [['authorization', `Bearer ${token}`]] }),
    ),
    http: Array.from({ length: PER_DOOR }, () => forward(doors, token)),
  };
  const settled = Promise.allSettled([...calls.grpc, ...calls.envoy, ...calls.http]);
  await until(async () => (await inFlight(doors)) === 3 * PER_DOOR, `${3 * PER_DOOR} calls in flight`);
  return { calls, settled };
}

const isCode = (code: status) => (err: unknown) => (err as ServiceError).code === code;

describe('gatehouse serve: SIGTERM under load', () => {
  let issuer: LoopbackIssuer;
  let token: string;
  let remove: () => void;
  let dir: string;
  const cleanups: (() => Promise<void> | void)[] = [];

  before(async () => {
    ({ dir, remove } = tempDir());
    issuer = await startLoopbackIssuer();
    token = issuer.token({ claims: { roles: ['Orders.Read'] } });
  });
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    await issuer?.close();
    remove?.();
  });

  /** A `gatehouse serve` with `grace`, whose key fetches wait for `jwks.open()`, and clients of its three doors. */
  async function startGated(name: string, grace: string) {
    const jwks = await gatedJwks(issuer);
    cleanups.push(() => jwks.close());
    const file = join(dir, `${name}.json`);
    writeFileSync(file, configJson(issuer, jwks.url, grace));
    const { serve, doors } = await startServe(file);
    cleanups.push(
      () => serve.kill(),
      () => doors.grpc.close(),
      () => doors.envoy.close(),
      () => doors.agent.destroy(),
    );
    return { jwks, serve, doors };
  }

  it('completes every in-flight call on every door, refuses new ones, and exits 0', async () => {
    const { jwks, serve, doors } = await startGated('drain', '60s');

    const { calls, settled } = await callsInFlight(doors, token);
    const from = serve.mark();
    serve.signal('SIGTERM');
    await serve.waitForLog('shutting down: finishing in-flight calls', from);

    // New calls, while the old ones are still held: refused on every door, each as its door says "not here".
    await assert.rejects(doors.grpc.authorize(token, ACTION), isCode(status.UNAVAILABLE));
    await assert.rejects(
      doors.envoy.check({ path: '/orders/42', headers: [['authorization', `Bearer ${token}`]] }),
      isCode(status.UNAVAILABLE),
    );
    const refused = await forward(doors, token, false); // the agent's connections are all busy with held calls
    assert.deepEqual(refused, { status: 503, reason: 'SHUTTING_DOWN', connection: 'close' });
    assert.equal(await inFlight(doors), 3 * PER_DOOR, 'the held calls are still in flight while new ones are refused');

    jwks.open();
    const outcomes = await settled;
    const failed = outcomes.filter((o) => o.status === 'rejected');
    assert.deepEqual(failed, [], 'zero failed in-flight calls');
    for (const reply of await Promise.all(calls.grpc)) assert.equal(reply.response.allowed, true);
    for (const response of await Promise.all(calls.envoy)) assert.equal(response.status?.code ?? 0, 0);
    for (const answer of await Promise.all(calls.http)) {
      // Answered in full, and told not to send another request on this keep-alive connection.
      assert.deepEqual(answer, { status: 200, reason: undefined, connection: 'close' });
    }
    assert.deepEqual(await serve.exited(), { code: 0, signal: null });
    assert.ok(serve.logs(from).some((line) => line.msg === 'gatehouse stopped'));
  });

  it('exits once server.shutdown_grace has passed although a call never finishes', async () => {
    const { serve, doors } = await startGated('grace', '1s'); // its key fetch is never let through
    const { settled } = await callsInFlight(doors, token);
    serve.signal('SIGTERM');
    assert.deepEqual(await serve.exited(), { code: 0, signal: null });
    // Cut off by the grace, each held call fails rather than hang (the point of the bound).
    for (const outcome of await settled) assert.equal(outcome.status, 'rejected');
  });
});
