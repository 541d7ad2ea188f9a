// Shutdown: with server.shutdown_delay, calls keep being served while /readyz already says not ready (so load
// balancers move traffic away first); and shutdown cannot be held open from outside: a client that never finishes
// its HTTP request on the operations port does not keep gatehouse.shutdown() (and so the process) from ending.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { describe, it } from 'node:test';
import { credentials, loadPackageDefinition, type ClientReadableStream } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import { startTestGatehouse } from '../helpers/gatehouse.js';

describe('shutdown', () => {
  it('finishes promptly although a client holds a half-sent request on the HTTP port', async () => {
    const gh = await startTestGatehouse(
      {
        issuers: [{ id: 'idp', type: 'oidc', issuer: 'http://127.0.0.1:9/', audiences: ['api'] }],
        server: { shutdown_grace: '1s' },
      },
      { level: 'silent', waitForKeys: false },
    );
    const socket = connect(gh.gatehouse.httpPort, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write('GET /metrics HTTP/1.1\r\nHost: x\r\n'); // the headers never end
    try {
      const done = gh.shutdown().then(() => 'done');
      const outcome = await Promise.race([done, new Promise((resolve) => setTimeout(() => resolve('still waiting'), 5000))]);
      assert.equal(outcome, 'done');
    } finally {
      socket.destroy();
      gh.client.close();
    }
  });

  it('ends a call still open when shutdown_grace runs out: grpc-js reaches every session (channelz must stay on)', async () => {
    const gh = await startTestGatehouse(
      {
        issuers: [{ id: 'idp', type: 'oidc', issuer: 'http://127.0.0.1:9/', audiences: ['api'] }],
        server: { shutdown_grace: '1s' },
      },
      { level: 'silent', waitForKeys: false },
    );
    // Health/Watch never ends on its own: only forceShutdown() at the grace deadline can end it.
    const Health = (loadPackageDefinition(loadSync(healthProtoPath, { enums: String })) as any).grpc.health.v1.Health;
    const health = new Health(`127.0.0.1:${gh.gatehouse.grpcPort}`, credentials.createInsecure());
    const watch = health.Watch({ service: '' }) as ClientReadableStream<{ status: string }>;
    const statuses: string[] = [];
    watch.on('data', (update) => statuses.push(update.status));
    const ended = new Promise<number>((resolve) => watch.on('status', (status: { code: number }) => resolve(status.code)));
    watch.on('error', () => {});
    try {
      await new Promise<void>((resolve) => watch.once('data', () => resolve()));
      await gh.shutdown();
      const code = await Promise.race([ended, new Promise<string>((resolve) => setTimeout(() => resolve('still open'), 5000))]);
      assert.notEqual(code, 'still open', 'the watch outlived shutdown_grace');
      assert.notEqual(code, 0);
      assert.deepEqual(statuses.slice(0, 2), ['SERVING', 'NOT_SERVING']);
    } finally {
      watch.cancel();
      health.close();
      gh.client.close();
    }
  });

  it('with shutdown_delay, serves new calls while not ready, then refuses them', async () => {
    const gh = await startTestGatehouse(
      {
        issuers: [{ id: 'idp', type: 'oidc', issuer: 'http://127.0.0.1:9/', audiences: ['api'] }],
        rules: [{ id: 'health', actions: ['/grpc.health.v1.Health/*'], public: true }],
        server: { shutdown_delay: '2s', shutdown_grace: '1s' },
      },
      { level: 'silent', waitForKeys: false },
    );
    try {
      const done = gh.shutdown();
      await new Promise((resolve) => setTimeout(resolve, 50));
      const ready = await fetch(`http://127.0.0.1:${gh.gatehouse.httpPort}/readyz`);
      assert.equal(ready.status, 503, 'not ready at once');
      const during = await gh.client.authorize('', '/grpc.health.v1.Health/Check');
      assert.equal(during.response.allowed, true, 'still served during the delay');
      await done;
    } finally {
      gh.client.close();
    }
  });
});
