// The gRPC server metrics through the real grpc-js server (127.0.0.1:0) with the interceptor installed, a real
// Authorizer behind it; only the identity provider's network edge is faked (a fetch that never answers).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { status } from '@grpc/grpc-js';
import { validateConfig } from '../../src/config/load.js';
import { loadGatehouseTypes } from '../../src/contract/proto.js';
import { createAuthorizer } from '../../src/decisions/create-authorizer.js';
import { startGrpcServer, type RunningGrpcServer } from '../../src/server/grpc-server.js';
import { noopHooks } from '../../src/server/telemetry-hooks.js';
import { GO_CODE_NAMES, grpcMetricsInterceptor, preinitialiseGrpcMetrics } from '../../src/telemetry/grpc-metrics-interceptor.js';
import { createMetrics, type GatehouseMetrics } from '../../src/telemetry/metrics.js';
import type { Fetch } from '../../src/verification/fetch-json.js';
import { rawGrpcCall } from '../helpers/raw-grpc.js';
import { parseExposition, valueOf, type Sample } from './exposition.js';
import { connect, type TestClient } from './grpc-client.js';

const ISSUER = 'https://idp.gatehouse.test';
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

/** Answers nothing until the request is aborted (by fetch_timeout). */
const silentFetch: Fetch = (_url, init) =>
  new Promise((_resolve, reject) => init?.signal?.addEventListener('abort', () => reject(init.signal?.reason as Error)));

describe('grpc metrics interceptor', () => {
  let metrics: GatehouseMetrics;
  let server: RunningGrpcServer;
  let client: TestClient;
  let firstScrape: Sample[];
  const authorizer = createAuthorizer(
    validateConfig({
      issuers: [{ id: 'idp', type: 'oidc', issuer: ISSUER, audiences: ['api'] }],
      keys: { fetch_timeout: '2s' },
      rules: [{ id: 'open', actions: ['/open.v1.Open/*'], public: true }],
    }),
    { fetch: silentFetch },
  );

  const scrape = async () => parseExposition((await metrics.exposition()).body);
  const handled = (samples: Sample[], method: string, code: string) =>
    valueOf(samples, 'grpc_server_handled_total', { grpc_service: 'gatehouse.v1.AuthService', grpc_method: method, grpc_code: code });
  /** The status is recorded when grpc-js ends the call, a tick after the client may already have its answer. */
  async function eventually(check: () => Promise<boolean>): Promise<void> {
    for (let i = 0; i < 300 && !(await check()); i++) await new Promise((r) => setTimeout(r, 10));
  }

  before(async () => {
    metrics = createMetrics({
      version: 'test',
      tenantLabel: false,
      keySources: () => [],
      decisionCacheSize: () => 0,
      now: Date.now,
      processMetrics: false,
    });
    server = await startGrpcServer({
      address: '127.0.0.1:0',
      maxMessageBytes: 65536,
      authorizer: () => authorizer,
      hooks: noopHooks,
      interceptors: [grpcMetricsInterceptor(metrics.grpc)],
    });
    preinitialiseGrpcMetrics(metrics.grpc, server.methods);
    firstScrape = await scrape();
    client = connect(server.port);
  });
  after(async () => {
    client.close();
    await server.shutdown(100);
    authorizer.verification.keyCache.stop();
  });

  it('has a zero series for every method of every registered service and every code on the first scrape', () => {
    const paths = server.methods.map((m) => m.path);
    for (const p of ['/gatehouse.v1.AuthService/Authorize', '/grpc.health.v1.Health/Check', '/grpc.health.v1.Health/Watch']) {
      assert.ok(paths.includes(p), p);
    }
    assert.ok(paths.some((p) => p.startsWith('/grpc.reflection.')));
    for (const path of paths) {
      const [, service, method] = path.split('/');
      const labels = { grpc_service: service!, grpc_method: method! };
      assert.equal(valueOf(firstScrape, 'grpc_server_started_total', labels), 0, path);
      assert.equal(valueOf(firstScrape, 'grpc_server_handling_seconds_count', labels), 0, path);
      for (const code of GO_CODE_NAMES) assert.equal(valueOf(firstScrape, 'grpc_server_handled_total', { ...labels, grpc_code: code }), 0);
    }
    const watch = firstScrape.find((s) => s.name === 'grpc_server_started_total' && s.labels.grpc_method === 'Watch');
    assert.equal(watch?.labels.grpc_type, 'server_stream');
    const authorize = firstScrape.find((s) => s.name === 'grpc_server_started_total' && s.labels.grpc_method === 'Authorize');
    assert.equal(authorize?.labels.grpc_type, 'unary');
  });

  it('counts an OK call and an INVALID_ARGUMENT call once each', async () => {
    assert.equal((await client.authorize('', '/open.v1.Open/Ping')).allowed, true);
    await assert.rejects(client.authorize('', ''), { code: status.INVALID_ARGUMENT });
    await eventually(async () => handled(await scrape(), 'Authorize', 'InvalidArgument') === 1);
    const samples = await scrape();
    assert.equal(handled(samples, 'Authorize', 'OK'), 1);
    assert.equal(handled(samples, 'Authorize', 'InvalidArgument'), 1);
    const total = samples.filter((s) => s.name === 'grpc_server_handled_total').reduce((sum, s) => sum + s.value, 0);
    assert.equal(total, 2);
    assert.equal(valueOf(samples, 'grpc_server_started_total', { grpc_method: 'Authorize' }), 2);
    assert.equal(valueOf(samples, 'grpc_server_handling_seconds_count', { grpc_method: 'Authorize' }), 2);
  });

  it('adds no series for a method no service has: grpc-js answers UNIMPLEMENTED before interceptors', async () => {
    const grpcSeries = (samples: Sample[]) => samples.filter((s) => s.name.startsWith('grpc_')).length;
    const before = grpcSeries(await scrape());
    assert.equal(await client.rawCall('/gatehouse.v1.AuthService/DropTables'), status.UNIMPLEMENTED);
    assert.equal(await client.rawCall('/attacker.v1.Grow/Series'), status.UNIMPLEMENTED);
    const samples = await scrape();
    assert.equal(grpcSeries(samples), before);
    assert.ok(!samples.some((s) => s.labels.grpc_method === 'DropTables' || s.labels.grpc_service === 'attacker.v1.Grow'));
  });

  it('records a call the transport ends (deadline) once, as DeadlineExceeded, even when the handler answers later', async () => {
    const token = `${b64({ alg: 'RS256', kid: 'k1' })}.${b64({ iss: ISSUER, aud: 'api', sub: 's', exp: Math.floor(Date.now() / 1000) + 600 })}.c2ln`;
    // Sent raw with grpc-timeout and no deadline of the client's own, so only the server's deadline can end it (a
    // grpc-js client's deadline may fire first and cancel the call, which the server then counts as Cancelled).
    const request = loadGatehouseTypes().lookupType('gatehouse.v1.AuthorizeRequest');
    const message = Buffer.from(request.encode({ token, action: '/orders.v1.Orders/Get' }).finish());
    const code = await rawGrpcCall(`127.0.0.1:${server.port}`, '/gatehouse.v1.AuthService/Authorize', { 'grpc-timeout': '300m' }, message);
    assert.equal(Number(code), status.DEADLINE_EXCEEDED);
    await eventually(async () => handled(await scrape(), 'Authorize', 'DeadlineExceeded') === 1);
    assert.equal(handled(await scrape(), 'Authorize', 'DeadlineExceeded'), 1);
    // The handler finishes when the key fetch times out (2s); its late status must not count a second time.
    await new Promise((r) => setTimeout(r, 2200));
    const samples = await scrape();
    assert.equal(handled(samples, 'Authorize', 'DeadlineExceeded'), 1);
    assert.equal(handled(samples, 'Authorize', 'OK'), 1);
  });
});
