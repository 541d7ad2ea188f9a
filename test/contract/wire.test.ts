// The conversions both sides share: what the server writes, the client library reads back unchanged.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { durationFromMs, msFromDuration } from '../../src/contract/wire-duration.js';
import { principalFromWire, toWirePrincipal } from '../../src/contract/wire-principal.js';
import { entraPrincipal } from '../helpers/principal.js';

describe('wire conversions', () => {
  it('Duration ⇄ milliseconds: whole milliseconds, never negative, absent is 0', () => {
    for (const ms of [0, 1, 999, 1_000, 1_500, 59_999, 60_000]) assert.equal(msFromDuration(durationFromMs(ms)), ms);
    assert.deepEqual(durationFromMs(1_500), { seconds: 1, nanos: 500_000_000 });
    assert.deepEqual(durationFromMs(-5), { seconds: 0, nanos: 0 });
    assert.deepEqual(durationFromMs(1.6), { seconds: 0, nanos: 2_000_000 });
    assert.equal(msFromDuration({ seconds: 0, nanos: 1_999_999 }), 1);
    assert.equal(msFromDuration(null), 0);
    assert.equal(msFromDuration(undefined), 0);
  });

  it('Principal ⇄ gatehouse.v1.Principal: the same principal back, frozen', () => {
    const principal = entraPrincipal({ groups: ['g1'], claims: { sub: 'alice', nested: { list: [1, 'two', true, null] } } });
    const wire = toWirePrincipal(principal);
    const back = principalFromWire(wire);
    assert.deepEqual(back, principal);
    assert.equal(Object.isFrozen(back) && Object.isFrozen(back.roles) && Object.isFrozen(back.claims), true);
  });
});
