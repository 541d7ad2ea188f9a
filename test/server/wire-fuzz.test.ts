// Raw bytes at the gRPC boundary: random and mutated requests to every AuthService method get OK (a token outcome
// as a value) or INVALID_ARGUMENT, never INTERNAL, and the server keeps answering. Seeded, so a failure replays.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client, credentials, Metadata, status, type ServiceDefinition, type ServiceError } from '@grpc/grpc-js';
import { AUTH_SERVICE_NAME, loadGatehouseProto } from '../../src/contract/proto.js';
import { startTestGatehouse, type TestGatehouse } from '../helpers/gatehouse.js';

/** xorshift32: deterministic bytes from a seed. */
function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

describe('AuthService wire fuzz', () => {
  let gh: TestGatehouse;
  let client: Client;
  const service = loadGatehouseProto()[AUTH_SERVICE_NAME] as ServiceDefinition;

  before(async () => {
    gh = await startTestGatehouse(
      {
        issuers: [{ id: 'idp', type: 'oidc', issuer: 'http://127.0.0.1:9/', audiences: ['api'] }],
        rules: [{ id: 'health', actions: ['/grpc.health.v1.Health/*'], public: true }],
      },
      { level: 'silent', waitForKeys: false },
    );
    client = new Client(`127.0.0.1:${gh.gatehouse.grpcPort}`, credentials.createInsecure());
  });
  after(async () => {
    client.close();
    await gh.close();
  });

  const raw = (path: string, bytes: Buffer) =>
    new Promise<status>((resolve) =>
      client.makeUnaryRequest(
        path,
        (b: Buffer) => b,
        (b: Buffer) => b,
        bytes,
        new Metadata(),
        { deadline: Date.now() + 10_000 },
        (err: ServiceError | null) => resolve(err ? err.code : status.OK),
      ),
    );

  it('answers 600 random and mutated requests with OK or INVALID_ARGUMENT only', async () => {
    const random = prng(0x9a7e);
    const valid = [
      service.Verify!.requestSerialize({ token: 'a.b.c' }),
      service.Authorize!.requestSerialize({ token: 'a.b.c', action: '/grpc.health.v1.Health/Check', attributes: { k: 'v' } }),
      service.AuthorizeBatch!.requestSerialize({ token: 'x', actions: ['a:b', '/c.D/E'] }),
    ];
    const seen = new Map<string, number>();
    for (let i = 0; i < 600; i++) {
      const method = Object.values(service)[i % 3]!;
      let bytes: Buffer;
      if (i % 2 === 0) {
        bytes = Buffer.from(Array.from({ length: Math.floor(random() * 64) }, () => Math.floor(random() * 256)));
      } else {
        bytes = Buffer.from(valid[Math.floor(random() * valid.length)]!);
        for (let flips = 1 + Math.floor(random() * 4); flips > 0 && bytes.length > 0; flips--) {
          bytes[Math.floor(random() * bytes.length)] = Math.floor(random() * 256);
        }
      }
      const code = await raw(method.path, bytes);
      const name = status[code]!;
      seen.set(name, (seen.get(name) ?? 0) + 1);
      assert.ok(code === status.OK || code === status.INVALID_ARGUMENT, `${method.path} ${bytes.toString('hex')} → ${name}`);
    }
    assert.ok((seen.get('INVALID_ARGUMENT') ?? 0) > 0 && (seen.get('OK') ?? 0) > 0, JSON.stringify([...seen]));
    const health = await gh.client.authorize('', '/grpc.health.v1.Health/Check');
    assert.equal(health.response.allowed, true, 'still answering');
  });
});
