// server.max_inflight: past it, calls are shed at once on every door (RESOURCE_EXHAUSTED, trailers-only; 503 with
// Retry-After) while the admitted ones are still pending; health, readiness and metrics are never shed; every admitted
// call then completes correctly, and gatehouse_shed_calls_total counts exactly the shed calls; a call its client cancels
// gives its slot back at once. No timing: the admitted calls are held in flight by the identity provider's
// first key fetch, which the test gates.
import assert from 'node:assert/strict';
import { connect } from 'node:http2';
import { after, before, describe, it } from 'node:test';
import { credentials, makeClientConstructor, status, type Client, type ServiceDefinition, type ServiceError } from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { AUTH_SERVICE_NAME, loadGatehouseProto } from '../../src/contract/proto.js';
import { OVERLOADED_MESSAGE } from '../../src/server/admission.js';
import type { Fetch } from '../../src/verification/fetch-json.js';
import { EnvoyTestClient } from '../helpers/envoy-client.js';
import { startTestGatehouse, until, type TestGatehouse } from '../helpers/gatehouse.js';
import { rawRequest } from '../helpers/raw-http.js';
import { parseExposition, valueOf } from '../telemetry/exposition.js';
import { LOOPBACK_AUDIENCE, startLoopbackIssuer, type LoopbackIssuer } from '../verification/loopback-issuer.js';

const MAX_INFLIGHT = 4;
const ACTION = 'orders:read';

/** Every fetch to the identity provider waits until `open()`. */
function gatedFetch(): { fetch: Fetch; open(): void } {
  let open = () => {};
  const gate = new Promise<void>((resolve) => (open = resolve));
  return { fetch: async (url, init) => (await gate, globalThis.fetch(url, init)), open };
}

/** A promise and whether it has settled yet. */
function tracked<T>(promise: Promise<T>): { promise: Promise<T>; settled: () => boolean } {
  let done = false;
  const settle = () => {
    done = true;
  };
  promise.then(settle, settle);
  return { promise, settled: () => done };
}

interface HealthClient extends Client {
  Check(request: { service: string }, callback: (err: ServiceError | null, res?: { status: string }) => void): void;
}

const isCode = (code: status) => (err: unknown) => (err as ServiceError).code === code;

describe('overload: server.max_inflight', () => {
  let issuer: LoopbackIssuer;
  let gh: TestGatehouse;
  let envoy: EnvoyTestClient;
  let gate: ReturnType<typeof gatedFetch>;
  let token: string;

  before(async () => {
    issuer = await startLoopbackIssuer();
    gate = gatedFetch();
    gh = await startTestGatehouse(
      {
        issuers: [{ id: 'idp', type: 'oidc', issuer: issuer.issuer, audiences: [LOOPBACK_AUDIENCE] }],
        rules: [
          { id: 'orders', actions: [ACTION, 'GET /orders/*'], any_roles: ['Orders.Read'] },
          { id: 'health', actions: ['/grpc.health.v1.Health/*'], public: true },
        ],
        server: { max_inflight: MAX_INFLIGHT },
        keys: { fetch_timeout: '60s' },
      },
      { level: 'silent', fetch: gate.fetch, waitForKeys: false },
    );
    envoy = new EnvoyTestClient(gh.address);
    token = issuer.token({ claims: { roles: ['Orders.Read'] } });
  });
  after(async () => {
    gate.open();
    envoy?.close();
    await gh?.close();
    await issuer?.close();
  });

  const scrape = async () => parseExposition((await gh.gatehouse.metrics.exposition()).body);
  const inFlight = async () => {
    const samples = await scrape();
    return ['grpc', 'envoy', 'http'].reduce((sum, door) => sum + (valueOf(samples, 'gatehouse_inflight_calls', { door }) ?? 0), 0);
  };
  const forward = () =>
    rawRequest(gh.gatehouse.httpPort, 'GET', '/v1/authz', [
      ['X-Original-Method', 'GET'],
      ['X-Original-URI', '/orders/42'],
      ['Authorization', `Bearer ${token}`],
    ]);
  const envoyCheck = () => envoy.check({ path: '/orders/42', headers: [['authorization', `Bearer ${token}`]] });

  it('sheds calls past the limit at once on every door while the admitted ones are pending; then all of these complete', async () => {
    // Exactly MAX_INFLIGHT calls, across the three doors, all waiting for the first key fetch.
    const admitted = [
      tracked(gh.client.authorize(token, ACTION)),
      tracked(gh.client.authorize(token, ACTION)),
      tracked(envoyCheck()),
      tracked(forward()),
    ];
    await until(async () => (await inFlight()) === MAX_INFLIGHT, `${MAX_INFLIGHT} calls in flight`);

    let headersSent = false;
    await assert.rejects(
      gh.client.authorize(token, ACTION, { onHeaders: () => (headersSent = true) }),
      (err: ServiceError) => err.code === status.RESOURCE_EXHAUSTED && err.details === OVERLOADED_MESSAGE,
    );
    assert.equal(headersSent, false, 'a shed call is trailers-only, so a client may retry it elsewhere');
    await assert.rejects(gh.client.verify(token), isCode(status.RESOURCE_EXHAUSTED));
    await assert.rejects(envoyCheck(), isCode(status.RESOURCE_EXHAUSTED));
    const shedForward = await forward();
    assert.equal(shedForward.status, 503, shedForward.body);
    assert.equal(shedForward.header('retry-after'), '1');
    assert.equal(shedForward.header('x-gatehouse-reason'), 'OVERLOADED');

    // Never shed: health over gRPC, and the operations endpoints over HTTP.
    const Health = makeClientConstructor(healthService, 'grpc.health.v1.Health');
    const health = new Health(gh.address, credentials.createInsecure()) as unknown as HealthClient;
    try {
      const answer = await new Promise<{ status: string }>((resolve, reject) =>
        health.Check({ service: '' }, (err, res) => (err || !res ? reject(err) : resolve(res))),
      );
      assert.equal(answer.status, 'SERVING');
    } finally {
      health.close();
    }
    for (const path of ['/healthz', '/readyz', '/metrics']) {
      const res = await rawRequest(gh.gatehouse.httpPort, 'GET', path);
      assert.notEqual(res.status, 503, `${path} is never shed`);
    }

    // The refusals came back while every admitted call was still pending: shedding does not wait for capacity.
    assert.deepEqual(
      admitted.map((call) => call.settled()),
      admitted.map(() => false),
    );
    gate.open();
    const [first, second, checked, forwarded] = await Promise.all(admitted.map((call) => call.promise));
    assert.equal((first as Awaited<ReturnType<typeof gh.client.authorize>>).response.allowed, true);
    assert.equal((second as Awaited<ReturnType<typeof gh.client.authorize>>).response.allowed, true);
    assert.equal((checked as Awaited<ReturnType<typeof envoyCheck>>).status?.code ?? 0, 0, 'Envoy Check allowed');
    assert.equal((forwarded as Awaited<ReturnType<typeof forward>>).status, 200);

    const samples = await scrape();
    assert.equal(valueOf(samples, 'gatehouse_shed_calls_total', { door: 'grpc' }), 2);
    assert.equal(valueOf(samples, 'gatehouse_shed_calls_total', { door: 'envoy' }), 1);
    assert.equal(valueOf(samples, 'gatehouse_shed_calls_total', { door: 'http' }), 1);
    assert.equal(
      valueOf(samples, 'grpc_server_handled_total', { grpc_method: 'Authorize', grpc_code: 'ResourceExhausted' }),
      1,
      'the gRPC metrics see the shed call under its code',
    );
    assert.equal(await inFlight(), 0, 'every slot is given back');
  });

  it('admits calls again once the slots are given back', async () => {
    const reply = await gh.client.authorize(token, ACTION);
    assert.equal(reply.response.allowed, true);
    assert.equal((await forward()).status, 200);
  });

  it('streams that never finish sending their request hold no slot, so they cannot crowd out real calls', async () => {
    const started = async () => valueOf(await scrape(), 'grpc_server_started_total', { grpc_method: 'Authorize' }) ?? 0;
    const startedBefore = await started();
    const shedBefore = valueOf(await scrape(), 'gatehouse_shed_calls_total', { door: 'grpc' });
    const session = connect(`http://127.0.0.1:${gh.gatehouse.grpcPort}`);
    session.on('error', () => {});
    try {
      const prefix = Buffer.alloc(5);
      prefix.writeUInt32BE(1000, 1); // a message of 1000 bytes announced, 10 sent
      for (let i = 0; i < 4 * MAX_INFLIGHT; i++) {
        const stream = session.request({
          ':method': 'POST',
          ':path': `/${AUTH_SERVICE_NAME}/Authorize`,
          'content-type': 'application/grpc',
          te: 'trailers',
        });
        stream.on('error', () => {});
        stream.write(Buffer.concat([prefix, Buffer.alloc(10)])); // and never end it
      }
      await until(async () => (await started()) === startedBefore + 4 * MAX_INFLIGHT, 'the half-sent streams to reach the server');
      assert.equal(await inFlight(), 0);
      const reply = await gh.client.authorize(token, ACTION);
      assert.equal(reply.response.allowed, true, 'a real call is admitted');
      assert.equal(valueOf(await scrape(), 'gatehouse_shed_calls_total', { door: 'grpc' }), shedBefore, 'and nothing was shed');
    } finally {
      session.destroy();
    }
  });
});

describe('overload: a call its client cancels', () => {
  let issuer: LoopbackIssuer;
  let gh: TestGatehouse;
  let gate: ReturnType<typeof gatedFetch>;

  before(async () => {
    issuer = await startLoopbackIssuer();
    gate = gatedFetch();
    gh = await startTestGatehouse(
      {
        issuers: [{ id: 'idp', type: 'oidc', issuer: issuer.issuer, audiences: [LOOPBACK_AUDIENCE] }],
        rules: [{ id: 'orders', actions: [ACTION], any_roles: ['Orders.Read'] }],
        server: { max_inflight: 1 },
        keys: { fetch_timeout: '60s' },
      },
      { level: 'silent', fetch: gate.fetch, waitForKeys: false },
    );
  });
  after(async () => {
    gate.open();
    await gh?.close();
    await issuer?.close();
  });

  it('gives its slot back at the cancel, while its work still waits, so cancelled streams cannot hold every slot', async () => {
    const token = issuer.token({ claims: { roles: ['Orders.Read'] } });
    const scrape = async () => parseExposition((await gh.gatehouse.metrics.exposition()).body);
    const inFlight = async () => valueOf(await scrape(), 'gatehouse_inflight_calls', { door: 'grpc' }) ?? 0;
    const AuthService = makeClientConstructor(loadGatehouseProto()[AUTH_SERVICE_NAME] as ServiceDefinition, AUTH_SERVICE_NAME);
    const raw = new AuthService(gh.address, credentials.createInsecure()) as unknown as Client & {
      Authorize(request: unknown, callback: (err: ServiceError | null) => void): { cancel(): void };
    };
    try {
      const cancelled = new Promise<ServiceError | null>((resolve) => {
        const call = raw.Authorize({ token, action: ACTION }, resolve);
        void until(async () => (await inFlight()) === 1, 'the call in flight').then(() => call.cancel());
      });
      assert.equal((await cancelled)?.code, status.CANCELLED);
      await until(async () => (await inFlight()) === 0, 'the slot to come back at the cancel');
      // Its verification still waits on the gated fetch; the next call is admitted all the same (and waits too).
      const next = tracked(gh.client.authorize(token, ACTION));
      await until(async () => (await inFlight()) === 1, 'the next call admitted');
      assert.equal(next.settled(), false);
      gate.open();
      assert.equal((await next.promise).response.allowed, true);
      await until(async () => (await inFlight()) === 0, 'every slot back');
      assert.equal(valueOf(await scrape(), 'gatehouse_shed_calls_total', { door: 'grpc' }), 0, 'nothing was shed');
    } finally {
      raw.close();
    }
  });
});
