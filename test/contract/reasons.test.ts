// The code's reason lists and the proto's gatehouse.v1.Reason enum are one list: a reason added (or renamed) in
// one place and not the other fails here, in either direction.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadGatehouseProto } from '../../src/contract/proto.js';
import { AuthzReasons, TokenReasons } from '../../src/contract/reasons.js';
import { reasonKind } from '../../src/contract/reason-kind.js';

interface EnumDefinition {
  readonly type: { readonly value: readonly { readonly name: string; readonly number: number }[] };
}

function protoReasons(): string[] {
  const definition = loadGatehouseProto()['gatehouse.v1.Reason'] as unknown as EnumDefinition | undefined;
  assert.ok(definition, 'gatehouse.v1.Reason is not in gatehouse.proto');
  return definition.type.value.map((v) => v.name).filter((name) => name !== 'REASON_UNSPECIFIED');
}

describe('the reason list and gatehouse.v1.Reason', () => {
  const code = [...TokenReasons, ...AuthzReasons];
  const proto = protoReasons();

  it('every reason in the code is in the proto enum', () => {
    assert.deepEqual(
      code.filter((r) => !proto.includes(r)),
      [],
    );
  });

  it('every value of the proto enum (REASON_UNSPECIFIED aside) is in the code', () => {
    assert.deepEqual(
      proto.filter((r) => !(code as readonly string[]).includes(r)),
      [],
    );
  });

  it('no reason is listed twice, nor as both a token and an authorization reason', () => {
    assert.equal(new Set(code).size, code.length);
  });

  it('token reasons are refusals of the token (or gatehouse unable to decide), authorization reasons are policy', () => {
    for (const reason of TokenReasons) assert.notEqual(reasonKind(reason), 'policy', reason);
    // SESSION_TOO_OLD is decided by a rule (Authorize only) but fixed by a new sign-in: a token problem (401).
    for (const reason of AuthzReasons) assert.equal(reasonKind(reason), reason === 'SESSION_TOO_OLD' ? 'token' : 'policy', reason);
  });

  it('the step-up reasons keep their numbers', () => {
    const definition = loadGatehouseProto()['gatehouse.v1.Reason'] as unknown as EnumDefinition;
    const number = (name: string) => definition.type.value.find((v) => v.name === name)?.number;
    assert.equal(number('SESSION_TOO_OLD'), 30);
    assert.equal(number('AUTH_CONTEXT_REQUIRED'), 31);
  });
});
