// Memory stays bounded under user churn: distinct tokens (ES256, 20 groups, ~1.5 KB each, as Entra issues them)
// pushed through a real `gatehouse serve` process with the default cache settings and the Deployment's own
// NODE_OPTIONS, several times what the caches hold. The process's RSS, read from /proc, stays under the
// Deployment's memory limit with room to spare, and flat once the caches are full.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CliProcess, tempDir } from '../cli/cli-process.js';
import { AuthTestClient } from '../helpers/gatehouse.js';
import { rssMiB, shippedContainer } from '../helpers/process-memory.js';
import { LOOPBACK_AUDIENCE, startLoopbackIssuer, type LoopbackIssuer } from '../verification/loopback-issuer.js';

const TOKENS = 30_000;
const IN_FLIGHT = 32;
const ACTION = '/orders.v1.Orders/GetOrder';

const guid = (i: number, j: number) =>
  `${(i * 131 + j).toString(16).padStart(8, '0').slice(-8)}-0000-4000-8000-${j.toString(16).padStart(12, '0')}`;

describe('memory under user churn', () => {
  const { limitMiB, nodeOptions } = shippedContainer();
  let issuer: LoopbackIssuer;
  let server: CliProcess;
  let client: AuthTestClient;
  let remove: () => void;

  before(async () => {
    issuer = await startLoopbackIssuer();
    let dir: string;
    ({ dir, remove } = tempDir());
    const file = join(dir, 'gatehouse.json');
    const config = {
      server: { grpc: '127.0.0.1:0', http: '127.0.0.1:0' },
      issuers: [{ id: 'idp', type: 'oidc', issuer: issuer.issuer, audiences: [LOOPBACK_AUDIENCE] }],
      rules: [{ id: 'read', actions: ['/orders.v1.Orders/*'], any_roles: ['Orders.Read'] }],
      logging: { level: 'info' },
    };
    writeFileSync(file, JSON.stringify(config));
    server = new CliProcess(['serve', '--config', file], { NODE_OPTIONS: nodeOptions });
    const listening = await server.waitForLine((line) => line.includes('"gatehouse listening"'));
    const port = (JSON.parse(listening) as { grpc: number }).grpc;
    client = new AuthTestClient(`127.0.0.1:${port}`);
  });
  after(async () => {
    client?.close();
    await server?.kill();
    await issuer?.close();
    remove?.();
  });

  it(
    `${TOKENS} distinct tokens: RSS under the Deployment's limit with room to spare, flat once the caches are full`,
    { timeout: 300_000 },
    async () => {
      assert.match(nodeOptions, /--max-old-space-size=\d+/, 'the Deployment bounds the V8 heap');
      const samples: number[] = [];
      let next = 0;
      const worker = async () => {
        while (next < TOKENS) {
          const i = next++;
          const token = issuer.token({
            key: 'ec',
            claims: {
              sub: `user-${i}`,
              oid: guid(i, 0),
              tid: guid(7, 7),
              roles: ['Orders.Read'],
              scp: 'orders.read',
              groups: Array.from({ length: 20 }, (_, j) => guid(i, j + 1)),
            },
          });
          const { response } = await client.authorize(token, ACTION);
          assert.equal(response.allowed, true, response.denial?.reason);
          if (i % 1000 === 0) samples.push(rssMiB(server.pid));
        }
      };
      await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
      samples.push(rssMiB(server.pid));

      const peak = Math.max(...samples);
      const half = Math.floor(samples.length / 2);
      const firstHalf = Math.max(...samples.slice(0, half));
      const secondHalf = Math.max(...samples.slice(half));
      const report = `RSS MiB every 1000 tokens: ${samples.map(Math.round).join(' ')}`;
      assert.ok(peak < 0.8 * limitMiB, `peak ${Math.round(peak)} MiB against a limit of ${limitMiB} MiB; ${report}`);
      assert.ok(secondHalf < firstHalf * 1.25, `still growing: ${Math.round(firstHalf)} then ${Math.round(secondHalf)} MiB; ${report}`);
    },
  );
});
