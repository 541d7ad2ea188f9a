// Streams that never finish their message are bounded per connection: a real `gatehouse serve` (the Deployment's
// NODE_OPTIONS) announces at most MAX_CONCURRENT_STREAMS streams per connection, so thousands of half-sent requests
// (each a length prefix for the transport's ceiling and almost all of its bytes) keep RSS under the memory limit,
// and honest calls on another connection are still answered.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { connect, type ClientHttp2Session } from 'node:http2';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MAX_CONCURRENT_STREAMS } from '../../src/server/grpc-server.js';
import { CliProcess, tempDir } from '../cli/cli-process.js';
import { AuthTestClient, sleep } from '../helpers/gatehouse.js';
import { rssMiB, shippedContainer } from '../helpers/process-memory.js';

const SESSIONS = 4;
const STREAMS = 4000;
const CEILING = 2 * 64 * 1024;

describe('half-sent streams', () => {
  const { limitMiB, nodeOptions } = shippedContainer();
  let server: CliProcess;
  let port: number;
  let remove: () => void;

  before(async () => {
    let dir: string;
    ({ dir, remove } = tempDir());
    const file = join(dir, 'gatehouse.json');
    const config = {
      server: { grpc: '127.0.0.1:0', http: '127.0.0.1:0' },
      issuers: [{ id: 'idp', type: 'oidc', issuer: 'http://127.0.0.1:9/', audiences: ['api'] }],
      rules: [{ id: 'ping', actions: ['ping:check'], public: true }],
    };
    writeFileSync(file, JSON.stringify(config));
    server = new CliProcess(['serve', '--config', file], { NODE_OPTIONS: nodeOptions });
    port = (JSON.parse(await server.waitForLine((line) => line.includes('"gatehouse listening"'))) as { grpc: number }).grpc;
  });
  after(async () => {
    await server?.kill();
    remove?.();
  });

  it(`${STREAMS} never-finished streams on ${SESSIONS} connections: bounded per connection, RSS under the limit`, async () => {
    const sessions: ClientHttp2Session[] = [];
    for (let i = 0; i < SESSIONS; i++) {
      const session = connect(`http://127.0.0.1:${port}`);
      session.on('error', () => {});
      await new Promise<void>((resolve) => session.once('remoteSettings', () => resolve()));
      sessions.push(session);
    }
    assert.equal(sessions[0]!.remoteSettings.maxConcurrentStreams, MAX_CONCURRENT_STREAMS);

    const prefix = Buffer.alloc(5);
    prefix.writeUInt32BE(CEILING, 1);
    const almostAll = Buffer.concat([prefix, Buffer.alloc(CEILING - 100, 0x1a)]);
    const samples: number[] = [];
    for (let i = 0; i < STREAMS; i++) {
      const stream = sessions[i % SESSIONS]!.request({
        ':method': 'POST',
        ':path': '/gatehouse.v1.AuthService/Authorize',
        'content-type': 'application/grpc',
        te: 'trailers',
      });
      stream.on('error', () => {});
      stream.resume();
      stream.write(almostAll); // and never end it
      if (i % 500 === 499) {
        await sleep(200);
        samples.push(rssMiB(server.pid));
      }
    }
    await sleep(1000);
    samples.push(rssMiB(server.pid));

    const honest = new AuthTestClient(`127.0.0.1:${port}`);
    try {
      assert.equal((await honest.authorize('', 'ping:check', { deadlineMs: 5000 })).response.allowed, true);
    } finally {
      honest.close();
      for (const session of sessions) session.destroy();
    }
    const peak = Math.max(...samples);
    assert.ok(peak < 0.8 * limitMiB, `peak ${Math.round(peak)} MiB against ${limitMiB} MiB: ${samples.map(Math.round).join(' ')}`);
  });
});
