// The principal written straight to bytes is the plain encoder's principal, byte for byte: for the principals a
// verified token gives (any JSON in its claims, whatever member names and nesting), and for hostile member names.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { Principal } from '../../src/contract/principal.js';
import { entraPrincipal } from '../helpers/principal.js';
import { loadGatehouseTypes } from '../../src/contract/proto.js';
import { principalFromWire, toWirePrincipal } from '../../src/contract/wire-principal.js';
import { principalBytes } from '../../src/server/principal-writer.js';

const principalType = loadGatehouseTypes().lookupType('gatehouse.v1.Principal');
const plainBytes = (p: Principal) => Buffer.from(principalType.encode(principalType.fromObject(toWirePrincipal(p))).finish());
const written = (p: Principal) => Buffer.from(principalBytes(p));

const base = entraPrincipal({ roles: ['Orders.Read', 'Orders.Write'], groups: ['g1'] });

describe('principal writer', () => {
  it('writes the plain encoder bytes for the claims JSON.parse gives, hostile member names included', () => {
    const claims = JSON.parse(
      '{"sub":"alice","2":"numbered members first","1":[],"__proto__":{"roles":["Admin"]},"constructor":"c","e":"é€😀\\ud800",' +
        '"n":-0,"big":1099511627776,"neg":-1.5e-300,"yes":true,"no":false,"nothing":null,"empty":{},"nested":{"list":[1,"two",false,null,{"deep":[[]]}],"__proto__":1}}',
    ) as Record<string, unknown>;
    const lone = '\ud800';
    const long = (n: number, c = 'x') => c.repeat(n);
    const big = Object.fromEntries(Array.from({ length: 400 }, (_, i) => [`claim-${i}`, { list: [long(60), i, null, [true]] }]));
    for (const p of [
      { ...base, claims },
      // Strings either side of protobufjs's 40-character switch, lone surrogates included; lengths past one byte.
      {
        ...base,
        subject: `${long(38)}${lone}`,
        issuer: `${long(39)}${lone}`,
        objectId: `${lone}${long(45)}é😀`,
        roles: [long(39), long(40), `😀${long(38)}`, `${long(200)}${lone}\udc00`],
        claims: { s39: long(39, 'é'), s40: long(40, '€'), deep: { a: { b: { c: [long(300), [long(130)]] } } } },
      },
      // Past the scratch buffer's first size (it grows), and lengths of two and three bytes; past the size it keeps
      // (let go after), then smaller ones again.
      { ...base, claims: big },
      { ...base, claims: { huge: long(200_000), list: [long(70_000, 'é')] } },
      { ...base, claims },
      // An expiry the fast path does not take: written the plain way.
      { ...base, expiresAt: -5 },
      { ...base, expiresAt: 2 ** 60 },
      { ...base, roles: [], scopes: [], groups: [], tenantId: '', objectId: '', clientId: '', tokenVersion: '', claims: {} },
      { ...base, appOnly: true, groupsOverage: true, expiresAt: 1_800_000_000.9 },
    ]) {
      assert.deepEqual(written(p), plainBytes(p));
    }
  });

  it('a "__proto__" member is left out, as the plain path left it, and never becomes a prototype on the way back', () => {
    const claims = JSON.parse('{"sub":"alice","__proto__":{"isAdmin":true}}') as Record<string, unknown>;
    const back = principalFromWire(
      principalType.toObject(principalType.decode(principalBytes({ ...base, claims })), {
        defaults: true,
        arrays: true,
        objects: true,
        longs: Number,
        enums: String,
      }) as never,
    );
    assert.deepEqual(Object.keys(back.claims), ['sub']);
    assert.equal((back.claims as { isAdmin?: unknown }).isAdmin, undefined);
  });

  it('claims nested past the depth limit of protobufjs are refused as the plain path refuses them, at the same depth', () => {
    const nested = (depth: number, wrap: (inner: unknown) => unknown, leaf: unknown = 'leaf'): unknown => {
      let value: unknown = leaf;
      for (let i = 0; i < depth; i++) value = wrap(value);
      return value;
    };
    const outcome = (encode: () => Buffer) => {
      try {
        return encode().toString('hex');
      } catch (err) {
        return `throws ${(err as Error).message}`;
      }
    };
    let refused = 0;
    for (const wrap of [(v: unknown) => [v], (v: unknown) => ({ d: v }), (v: unknown) => [{ d: v }]]) {
      // The innermost Value a string, an empty list or an empty struct: each kind of message at the limit.
      for (const leaf of ['leaf', [], {}]) {
        for (let depth = 40; depth <= 55; depth++) {
          const p = { ...base, claims: { d: nested(depth, wrap, leaf) } };
          const plain = outcome(() => plainBytes(p));
          assert.equal(
            outcome(() => written(p)),
            plain,
            `depth ${depth}, leaf ${JSON.stringify(leaf)}`,
          );
          if (plain.startsWith('throws')) refused += 1;
        }
      }
    }
    assert.ok(refused > 0, 'the range reaches the limit');
    // Far past it: a plain Error, no stack overflow, and the next principal is written whole.
    assert.throws(() => principalBytes({ ...base, claims: { d: nested(20_000, (v) => [v]) } }), /maximum nesting depth exceeded/);
    assert.deepEqual(written(base), plainBytes(base));
  });

  it('property: any principal with any JSON claims is written to the plain encoder bytes', () => {
    const text = fc.oneof(fc.string({ unit: 'binary', maxLength: 12 }), fc.string({ unit: 'binary', minLength: 36, maxLength: 80 }));
    const principal = fc.record({
      issuer: text,
      issuerId: text,
      subject: text,
      tenantId: text,
      objectId: text,
      clientId: text,
      roles: fc.array(text, { maxLength: 4 }),
      scopes: fc.array(text, { maxLength: 4 }),
      groups: fc.array(text, { maxLength: 4 }),
      groupsOverage: fc.boolean(),
      appOnly: fc.boolean(),
      expiresAt: fc.oneof(fc.integer({ min: 0, max: 2 ** 40 }), fc.double({ min: 0, max: 2 ** 53, noNaN: true })),
      tokenVersion: text,
      claims: fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 8 }),
    });
    fc.assert(
      fc.property(principal, (p) => {
        // As a token's claims arrive: through JSON (a dictionary's __proto__ key as an own member, -0 as 0).
        const claims = JSON.parse(JSON.stringify(p.claims)) as Record<string, unknown>;
        const value = { ...p, claims } as Principal;
        assert.deepEqual(written(value), plainBytes(value));
      }),
      { numRuns: 300, seed: 0x5eed },
    );
  });
});
