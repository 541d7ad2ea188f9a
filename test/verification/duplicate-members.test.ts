// hasDuplicateMembers: a member named twice in one object, at any depth, however its name is escaped; never a
// false alarm for the same name in two objects, names inside string values, or deep nesting.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { hasDuplicateMembers } from '../../src/verification/duplicate-members.js';

const dup = (text: string) => hasDuplicateMembers(text, JSON.parse(text));

describe('hasDuplicateMembers', () => {
  it('finds a member named twice, at the top, nested, in arrays, and spelled with escapes', () => {
    for (const text of [
      '{"a":1,"a":2}',
      '{"x":{"roles":[],"roles":["admin"]}}',
      '{"x":[{"k":1},{"k":1,"k":2}]}',
      '{"a":1,"\\u0061":2}',
      '{"__proto__":1,"__proto__":2}',
      '{"a" :1, "a"\n:2}',
    ]) {
      assert.equal(dup(text), true, text);
    }
  });

  it('is not fooled by the same name in two objects, names inside strings, escaped quotes or deep nesting', () => {
    for (const text of [
      '{"a":1,"b":{"a":2}}',
      '{"a":"\\"a\\":1","b":"x:"}',
      '{"k\\\\":"v","k":"\\\\"}',
      '[{"a":1},{"a":1}]',
      `${'{"a":'.repeat(20_000)}1${'}'.repeat(20_000)}`,
      '{}',
    ]) {
      assert.equal(dup(text), false, text.slice(0, 60));
    }
  });

  it('agrees with a reference count of member names on any JSON, with any spacing and a member repeated or not', () => {
    // The reference: every string literal consumed whole, a name when a `:` follows (the regular expression this
    // scanner replaced, for speed).
    const referenceNames = (text: string) => [...text.matchAll(/"(?:[^"\\]|\\.)*"(\s*:)?/g)].filter((m) => m[1] !== undefined).length;
    const spaced = fc.tuple(fc.jsonValue(), fc.constantFrom(0, 1, 2), fc.boolean());
    fc.assert(
      fc.property(spaced, ([value, indent, repeat]) => {
        let text = JSON.stringify(value, null, indent) ?? 'null';
        if (repeat && /^\{\s*"/.test(text)) text = text.replace(/^\{(\s*)("(?:[^"\\]|\\.)*"\s*:)/, '{$1$2 0, $2');
        const parsed = JSON.parse(text) as unknown;
        const expected = referenceNames(text) > countMembers(parsed);
        assert.equal(hasDuplicateMembers(text, parsed), expected, text.slice(0, 80));
      }),
      { seed: 0xd0b1e, numRuns: 500 },
    );
  });
});

function countMembers(value: unknown): number {
  if (value === null || typeof value !== 'object') return 0;
  if (Array.isArray(value)) return value.reduce((n: number, item) => n + countMembers(item), 0);
  return Object.values(value).reduce((n: number, item) => n + 1 + countMembers(item), 0);
}
