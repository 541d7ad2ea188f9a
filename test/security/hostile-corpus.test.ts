// The hostile corpus (issue 13): every crafted request through all three doors (gRPC Authorize, Envoy Check, HTTP
// /v1/authz), each answered with its exact reason and never allowed, and the server still answering a good call.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { HEADER_CASES, STRUCTURE_CASES } from './corpus-tokens.js';
import { ENTRA_CASES, FRONT_DOOR_CASES, WIRE_CASES } from './corpus-doors.js';
import { DOORS, Doors, type Door } from './doors.js';
import { rawExchange } from '../helpers/raw-http.js';
import { bearer, expected, startWorld, stopWorld, type Gate, type HostileCase, type World } from './world.js';

const CORPUS: readonly HostileCase[] = [...HEADER_CASES, ...STRUCTURE_CASES, ...WIRE_CASES, ...ENTRA_CASES, ...FRONT_DOOR_CASES];

describe('hostile corpus, on every door', () => {
  let world: World;
  let doors: Record<Gate, Doors>;

  before(async () => {
    world = await startWorld();
    doors = { main: new Doors(world.gates.main), org: new Doors(world.gates.org) };
  });
  after(async () => {
    for (const d of Object.values(doors ?? {})) d.close();
    await stopWorld(world);
  });

  it('holds at least 60 cases, each with a distinct name', () => {
    assert.ok(CORPUS.length >= 60, `only ${CORPUS.length} cases`);
    assert.equal(new Set(CORPUS.map((c) => c.id)).size, CORPUS.length);
  });

  it('the baseline: the reader is allowed on every door (so each refusal below is the crafted part’s)', async () => {
    for (const door of DOORS) {
      assert.equal((await doors.main.ask(door, bearer(world.reader))).outcome, 'ALLOWED', door);
      assert.equal((await doors.main.ask(door, { ...bearer(''), authorization: [`bearer ${world.reader}`] })).outcome, 'ALLOWED', door);
    }
  });

  for (const c of CORPUS) {
    it(c.id, async () => {
      const question = await c.build(world);
      const gate = c.gate ?? 'main';
      const answers: Partial<Record<Door, string>> = {};
      for (const door of DOORS) {
        const answer = await doors[gate].ask(door, question);
        assert.notEqual(answer.outcome, 'ALLOWED', `${door} allowed it`);
        assert.notEqual(answer.status, '200', `${door} answered 200`);
        answers[door] = answer.outcome;
      }
      const want = Object.fromEntries(DOORS.map((door) => [door, expected(c, door)]));
      assert.deepEqual(answers, want);
    });
  }

  it('HTTP: a request without Host (HTTP/1.1 requires one) is refused by gatehouse, with its reason', async () => {
    const port = world.gates.main.gatehouse.httpPort;
    const res = await rawExchange(
      port,
      `GET /v1/authz HTTP/1.1\r\nConnection: close\r\nX-Original-Method: GET\r\nX-Original-URI: /orders/42\r\nAuthorization: Bearer ${world.reader}\r\n\r\n`,
    );
    assert.equal(res.status, 400);
    assert.equal(res.header('x-gatehouse-reason'), 'FORWARD_MALFORMED');
    assert.match(res.body, /Host/);
  });

  it('every gatehouse still answers a good call on every door', async () => {
    for (const door of DOORS) assert.equal((await doors.main.ask(door, bearer(world.reader))).outcome, 'ALLOWED', door);
    const entraReader = await world.entra.mint({
      version: 2,
      tid: '72f988bf-86f1-41af-91ab-2d7cd011db47',
      aud: 'api://gatehouse-orders',
      claims: { roles: ['Orders.Read'] },
    });
    for (const door of DOORS) assert.equal((await doors.org.ask(door, bearer(entraReader))).outcome, 'ALLOWED', door);
  });
});
