// Property tests (fast-check, seeded: see fuzz-settings.ts): any byte string as a token, and any mutation of a valid
// token, through all three doors. Each ends in a typed denial or a refused request, never an allow (a mutation is
// allowed only when its segments still decode to the original's bytes), and the server stays up.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { stripBearer } from '../../src/contract/bearer.js';
import { DOORS, Doors } from './doors.js';
import { fuzzParameters, FUZZ_SEED, runsOf } from './fuzz-settings.js';
import { assertAlive, assertRefused } from './outcomes.js';
import { bearer, ENTRA_AUDIENCE, startWorld, stopWorld, TENANT, type World } from './world.js';

const BYTE_RUNS = 100;
const MUTATION_RUNS = 100;

/** The three segments decode to the original's bytes (base64url's spare low bits may differ). */
function sameBytes(mutated: string, original: string): boolean {
  const a = stripBearer(mutated).split('.');
  const b = original.split('.');
  if (a.length !== 3) return false;
  return a.every(
    (part, i) =>
      /^[A-Za-z0-9_-]*$/.test(part) && part.length % 4 !== 1 && Buffer.from(part, 'base64url').equals(Buffer.from(b[i]!, 'base64url')),
  );
}

/** One edit of a token's text. CR and LF are left to the corpus (on HTTP they split the header, making another request). */
const text = fc.string({ unit: 'binary', maxLength: 40 }).map((s) => s.replace(/[\r\n]/g, ''));
const edit = fc.oneof(
  fc.record({ op: fc.constant('replace' as const), at: fc.nat(), with: text }),
  fc.record({ op: fc.constant('insert' as const), at: fc.nat(), with: text }),
  fc.record({ op: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 64 }) }),
  fc.record({ op: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 6 }) }),
  fc.record({ op: fc.constant('segments' as const), order: fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 0, maxLength: 5 }) }),
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
);
type Edit = typeof edit extends fc.Arbitrary<infer T> ? T : never;

function apply(token: string, e: Edit): string {
  const at = 'at' in e ? e.at % (token.length + 1) : 0;
  switch (e.op) {
    case 'replace':
      return token.slice(0, at) + e.with + token.slice(at + e.with.length);
    case 'insert':
      return token.slice(0, at) + e.with + token.slice(at);
    case 'delete':
      return token.slice(0, at) + token.slice(at + e.length);
    case 'flip':
      return at < token.length
        ? token.slice(0, at) + String.fromCharCode(token.charCodeAt(at) ^ (1 << e.bit)) + token.slice(at + 1)
        : token;
    case 'segments': {
      const parts = token.split('.');
      return e.order.map((i) => parts[i] ?? '').join('.');
    }
    case 'truncate':
      return token.slice(0, at);
  }
}

describe('property: hostile tokens on every door', () => {
  let world: World;
  let doors: Doors;
  let bases: string[];

  before(async () => {
    world = await startWorld();
    doors = new Doors(world.gates.main);
    bases = [
      world.reader,
      world.issuer.token({ key: 'ec', claims: world.claims() }),
      await world.entra.mint({ version: 2, tid: TENANT, aud: ENTRA_AUDIENCE, claims: { roles: ['Orders.Read'] } }),
    ];
    for (const base of bases) assert.equal((await doors.ask('grpc', bearer(base))).outcome, 'ALLOWED', 'every base token is valid');
  });
  after(async () => {
    doors?.close();
    await stopWorld(world);
  });

  it(`any byte string as a token (${runsOf('tokenBytes', BYTE_RUNS)} runs, seed ${FUZZ_SEED})`, { timeout: 900_000 }, async () => {
    const token = fc.oneof(
      fc.uint8Array({ maxLength: 2048 }).map((bytes) => Buffer.from(bytes).toString('latin1')),
      fc.string({ unit: 'binary', maxLength: 512 }),
      fc.base64String({ maxLength: 1024 }).map((s) => s.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')),
      fc.array(fc.base64String({ maxLength: 300 }), { minLength: 3, maxLength: 3 }).map((parts) => parts.join('.')),
    );
    await fc.assert(
      fc.asyncProperty(token, fc.boolean(), async (value, withScheme) => {
        const question = { ...bearer(''), authorization: [withScheme ? `Bearer ${value}` : value] };
        const answers = await Promise.all(DOORS.map((door) => doors.ask(door, question)));
        answers.forEach((answer, i) => assertRefused(answer, DOORS[i]!));
      }),
      fuzzParameters('tokenBytes', BYTE_RUNS),
    );
    await assertAlive(doors, world.reader);
  });

  it(
    `any mutation of a valid token (${runsOf('tokenMutation', MUTATION_RUNS)} runs, seed ${FUZZ_SEED})`,
    { timeout: 900_000 },
    async () => {
      await fc.assert(
        fc.asyncProperty(fc.nat(), fc.array(edit, { minLength: 1, maxLength: 3 }), async (pick, edits) => {
          const original = bases[pick % bases.length]!;
          const mutated = edits.reduce(apply, original);
          const question = bearer(mutated);
          const answers = await Promise.all(DOORS.map((door) => doors.ask(door, question)));
          answers.forEach((answer, i) => {
            if (answer.outcome === 'ALLOWED') assert.ok(sameBytes(mutated, original), `${DOORS[i]} allowed a changed token`);
            else assertRefused(answer, DOORS[i]!);
          });
        }),
        fuzzParameters('tokenMutation', MUTATION_RUNS),
      );
      await assertAlive(doors, world.reader);
    },
  );
});
