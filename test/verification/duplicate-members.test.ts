// hasDuplicateMembers: a member named twice in one object, at any depth, however its name is escaped; never a
// false alarm for the same name in two objects, names inside string values, or deep nesting.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
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
});
