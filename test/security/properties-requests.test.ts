// Property tests (fast-check, seeded: see fuzz-settings.ts) of everything around the token: any action string (all
// three doors), any attributes map (Authorize), any CheckRequest shape (Envoy), any header set on /v1/authz. Each
// ends in a typed denial or a refused request, never an allow the rules do not grant, and the server stays up.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { rawExchange } from '../helpers/raw-http.js';
import { EnvoyTestClient } from '../helpers/envoy-client.js';
import { DOORS, Doors } from './doors.js';
import { fuzzParameters, FUZZ_SEED, runsOf } from './fuzz-settings.js';
import { assertAlive, assertRefused, isRefusal } from './outcomes.js';
import { startWorld, stopWorld, type World } from './world.js';
import type { ServiceError } from '@grpc/grpc-js';

const RUNS = 100;
const text = (maxLength = 64) => fc.string({ unit: 'binary', maxLength });
/** Path-like text: the characters that make a path non-canonical, often. */
const pathText = fc
  .array(
    fc.oneof(
      fc.constantFrom('/', '.', '..', '%2e', '%2F', '%5c', '%25', '%', '\\', ';', '?', '#', '//', 'orders', '42', 'admin', ' '),
      text(4),
    ),
    {
      maxLength: 12,
    },
  )
  .map((parts) => parts.join(''));

/**
 * What any action the rules allow must look like: `GET /orders/<one segment>` (or `orders:approve`, never without its
 * attribute), in canonical form. A necessary condition, written apart from the engine's own check.
 */
function grantable(action: string): boolean {
  const match = /^GET \/orders\/([^/]+)$/.exec(action);
  if (!match) return false;
  const segment = match[1]!;
  // eslint-disable-next-line no-control-regex -- control characters are what a granted path may never hold
  return segment !== '.' && segment !== '..' && !/[\s\\;?#\u0000-\u001f\u007f]/.test(segment) && !/%(2e|2f|5c)/i.test(segment);
}

describe('property: hostile requests on every door', () => {
  let world: World;
  let doors: Doors;

  before(async () => {
    world = await startWorld();
    doors = new Doors(world.gates.main);
  });
  after(async () => {
    doors?.close();
    await stopWorld(world);
  });

  it(`any action string (${runsOf('action', RUNS)} runs, seed ${FUZZ_SEED})`, { timeout: 900_000 }, async () => {
    const method = fc.oneof(fc.constantFrom('GET', 'POST', 'get', 'DELETE', ''), text(8));
    const path = fc.oneof(
      pathText.map((p) => `/orders/${p}`),
      pathText,
      text(200),
    );
    await fc.assert(
      fc.asyncProperty(method, path, async (m, p) => {
        const question = { authorization: [`Bearer ${world.reader}`], method: m, path: p };
        const answers = await Promise.all(DOORS.map((door) => doors.ask(door, question)));
        const action = `${m} ${p.split('?')[0]}`;
        answers.forEach((answer, i) => {
          if (answer.outcome === 'ALLOWED') assert.ok(grantable(action), `${DOORS[i]} allowed ${JSON.stringify(action)}`);
          else assertRefused(answer, DOORS[i]!);
        });
      }),
      fuzzParameters('action', RUNS),
    );
    // Any action string, as gRPC alone can carry it (a third as many runs again).
    await fc.assert(
      fc.asyncProperty(text(1100), async (action) => {
        const { response } = await world.gates.main.client.authorize(world.reader, action).catch((err: ServiceError) => {
          assert.equal(err.code, 3, `${JSON.stringify(action)}: ${err.details}`);
          return { response: { allowed: false, denial: { reason: 'CLAIMS_INVALID' } } };
        });
        if (response.allowed) assert.ok(grantable(action), `allowed ${JSON.stringify(action)}`);
      }),
      fuzzParameters('action', RUNS, 1 / 3),
    );
    await assertAlive(doors, world.reader);
  });

  it(`any attributes map (${runsOf('attributes', RUNS)} runs, seed ${FUZZ_SEED})`, { timeout: 900_000 }, async () => {
    const attributes = fc.record({
      map: fc.dictionary(fc.oneof(text(16), text(300)), fc.oneof(text(32), text(5000)), { maxKeys: 70 }),
      tenant: fc.option(fc.constantFrom('contoso', 'Contoso', 'contoso ', 'fabrikam', ''), { nil: undefined }),
    });
    await fc.assert(
      fc.asyncProperty(attributes, async ({ map, tenant }) => {
        const sent: Record<string, string> = { ...map, ...(tenant === undefined ? {} : { tenant }) };
        const entries = Object.entries(sent);
        const within = entries.length <= 64 && entries.every(([k, v]) => Buffer.byteLength(k) <= 256 && Buffer.byteLength(v) <= 4096);
        try {
          const { response } = await world.gates.main.client.authorize(world.reader, 'orders:approve', { attributes: sent });
          assert.ok(within, 'attributes over the limits were decided');
          if (sent.tenant === 'contoso') assert.equal(response.allowed, true);
          else assert.equal(response.denial?.reason, 'CONDITION_NOT_MET');
        } catch (err) {
          if (err instanceof assert.AssertionError) throw err;
          assert.equal((err as ServiceError).code, 3, (err as ServiceError).details);
          assert.ok(!within, `refused attributes within the limits: ${(err as ServiceError).details}`);
        }
      }),
      fuzzParameters('attributes', RUNS),
    );
    await assertAlive(doors, world.reader);
  });

  it(`any CheckRequest shape (${runsOf('checkRequest', RUNS)} runs, seed ${FUZZ_SEED})`, { timeout: 900_000 }, async () => {
    const dict = (maxKeys: number) =>
      fc.dictionary(fc.oneof(fc.constantFrom('authorization', 'content-type', 'x-request-id', 'x-gatehouse-subject'), text(16)), text(), {
        maxKeys,
      });
    const line = fc.record(
      {
        key: fc.oneof(fc.constantFrom('authorization', 'Authorization', 'content-type'), text(16)),
        value: text(),
        raw_value: fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)),
      },
      { requiredKeys: [] },
    );
    const http = fc.record(
      {
        id: text(),
        method: fc.oneof(fc.constantFrom('GET', 'POST', 'get', ''), text(8)),
        path: fc.oneof(fc.constantFrom('/orders/42', '/orders.v1.Orders/GetOrder', ''), pathText, text(1100)),
        host: text(),
        scheme: text(8),
        protocol: fc.constantFrom('HTTP/1.1', 'HTTP/2', ''),
        headers: dict(300),
        header_map: fc.record({ headers: fc.array(line, { maxLength: 300 }) }, { requiredKeys: [] }),
      },
      { requiredKeys: [] },
    );
    const request = fc.record(
      {
        attributes: fc.record(
          {
            request: fc.record({ http }, { requiredKeys: [] }),
            context_extensions: fc.oneof(
              dict(4),
              fc.dictionary(text(8), text(8), { maxKeys: 70 }),
              fc.record({ gatehouse_action: text(1100) }),
            ),
          },
          { requiredKeys: [] },
        ),
      },
      { requiredKeys: [] },
    );
    const envoy = new EnvoyTestClient(world.gates.main.address);
    try {
      await fc.assert(
        fc.asyncProperty(request, async (shape) => {
          try {
            const response = await envoy.check(shape);
            assert.equal(response.http_response, 'denied_response', 'no token, yet allowed');
          } catch (err) {
            if (err instanceof assert.AssertionError) throw err;
            const code = (err as ServiceError).code;
            assert.ok(code === 3 || code === 8, `Check failed with ${code}: ${(err as ServiceError).details}`);
          }
        }),
        fuzzParameters('checkRequest', RUNS),
      );
    } finally {
      envoy.close();
    }
    await assertAlive(doors, world.reader);
  });

  it(`any header set on /v1/authz (${runsOf('httpHeaders', RUNS)} runs, seed ${FUZZ_SEED})`, { timeout: 900_000 }, async () => {
    const names = [
      'Authorization',
      'authorization',
      'X-Original-URI',
      'x-original-method',
      'X-Original-Method',
      'X-Forwarded-Uri',
      'X-Forwarded-Method',
      'X-Forwarded-Host',
      'Content-Length',
      'Transfer-Encoding',
      'Host',
      'X-Request-Id',
      'Connection',
      'X-Gatehouse-Subject',
      'Cookie',
    ];
    const name = fc.oneof(fc.constantFrom(...names), fc.stringMatching(/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,20}$/), text(8));
    const value = fc.oneof(
      fc.constantFrom('/orders/42', '/admin', 'GET', 'Bearer a.b.c', 'Bearer ', '0', '5', 'chunked', 'close', 'keep-alive', ''),
      pathText,
      text(100),
      fc.uint8Array({ maxLength: 100 }).map((b) => Buffer.from(b).toString('latin1')),
    );
    const port = world.gates.main.gatehouse.httpPort;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(name, value), { maxLength: 40 }), async (headers) => {
        const lines = ['GET /v1/authz HTTP/1.1', 'Connection: close', ...headers.map(([k, v]) => `${k}: ${v}`)];
        const res = await rawExchange(port, `${lines.join('\r\n')}\r\n\r\n`);
        const outcome = res.header('x-gatehouse-reason') ?? `http:${res.status}`;
        assert.notEqual(res.status, 200, 'no token, yet allowed');
        assert.ok(isRefusal({ outcome, status: String(res.status) }), `answered ${res.status} ${outcome}`);
      }),
      fuzzParameters('httpHeaders', RUNS),
    );
    await assertAlive(doors, world.reader);
  });
});
