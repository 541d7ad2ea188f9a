// The prepared response encoders (principal bytes written straight from the engine's principal, once per cached one,
// per-call fields written around them) produce the plain encoder's bytes, so the wire format is unchanged whatever a
// response holds.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ServiceDefinition } from '@grpc/grpc-js';
import type { AuthorizeResponse, VerifyResponse, WirePrincipal } from '../../src/contract/messages.js';
import type { Principal } from '../../src/contract/principal.js';
import { entraPrincipal } from '../helpers/principal.js';
import { AUTH_SERVICE_NAME, loadGatehouseProto, loadGatehouseTypes } from '../../src/contract/proto.js';
import { durationFromMs } from '../../src/contract/wire-duration.js';
import { toWirePrincipal } from '../../src/contract/wire-principal.js';
import { preparedBytes } from '../../src/server/prepared-bytes.js';
import { preparePrincipal, responseEncoders, withPreparedResponses, type Prepared } from '../../src/server/prepared-responses.js';

const plain = loadGatehouseProto()[AUTH_SERVICE_NAME] as ServiceDefinition;
const prepared = responseEncoders(loadGatehouseTypes());
const principalType = loadGatehouseTypes().lookupType('gatehouse.v1.Principal');

const principal = entraPrincipal({
  roles: ['Orders.Read', 'Orders.Write'],
  groups: ['g1', 'g2'],
  groupsOverage: true,
  claims: { sub: 'alice', n: 1.5, big: 2 ** 40, yes: true, nothing: null, nested: { list: [1, 'two', false, null, { deep: 'é€😀' }] } },
});
const bare: Principal = { ...principal, roles: [], scopes: [], groups: [], groupsOverage: false, tokenVersion: '', claims: {} };

/** A response as a handler builds it, with the engine's principal: in its wire form for the plain encoder. */
type Case<T extends { principal: WirePrincipal | null }> = Omit<T, 'principal'> & { principal: Principal | null };
const wireOf = <T extends { principal: WirePrincipal | null }>(c: Case<T>): T =>
  ({ ...c, principal: c.principal && toWirePrincipal(c.principal) }) as T;
const preparedOf = <T extends { principal: WirePrincipal | null }>(c: Case<T>, keep = true): Prepared<T> => ({
  ...c,
  principal: c.principal && preparePrincipal(c.principal, keep),
});

const authorizeResponses: Case<AuthorizeResponse>[] = [
  { allowed: true, principal, denial: null, rule: 'orders-read', cacheFor: durationFromMs(60_000) },
  // The same principal again, another per-call cache_for (the prepared bytes are reused).
  { allowed: true, principal, denial: null, rule: 'orders-read', cacheFor: durationFromMs(1_234) },
  { allowed: true, principal: bare, denial: null, rule: '', cacheFor: durationFromMs(0) },
  {
    allowed: false,
    principal,
    denial: { reason: 'AUTH_CONTEXT_REQUIRED', message: 'step up', challenge: 'Bearer realm="", claims="eyJ9"' },
    rule: 'orders-write',
    cacheFor: durationFromMs(30_500),
  },
  {
    allowed: false,
    principal: null,
    denial: { reason: 'TOKEN_EXPIRED', message: 'expired', challenge: '' },
    rule: '',
    cacheFor: durationFromMs(0),
  },
  { allowed: false, principal: null, denial: { reason: 'TOKEN_MISSING', message: 'no token' }, rule: '', cacheFor: null },
  { allowed: true, principal: null, denial: null, rule: 'public', cacheFor: { seconds: 3_000_000_000, nanos: 999_000_000 } },
  // A rule not all ASCII, parts of a duration no allow has, a rule longer than a one-byte length.
  { allowed: true, principal, denial: null, rule: 'règle-\ud800', cacheFor: durationFromMs(5_000) },
  { allowed: true, principal, denial: null, rule: 'r', cacheFor: { seconds: -1, nanos: -5 } },
  { allowed: true, principal, denial: null, rule: 'r', cacheFor: { seconds: 2 ** 60, nanos: 1.5 } },
  { allowed: true, principal, denial: null, rule: 'x'.repeat(300), cacheFor: { seconds: 1, nanos: 0 } },
];
const verifyResponses: Case<VerifyResponse>[] = [
  { valid: true, principal, denial: null },
  { valid: false, principal: null, denial: { reason: 'SIGNATURE_INVALID', message: 'bad signature' } },
  { valid: false, principal: null, denial: null },
];

const decode = (name: string, bytes: Buffer) => plain[name]!.responseDeserialize(bytes);

describe('prepared AuthService responses', () => {
  it('Authorize: the plain encoder bytes, per-call fields included, and they decode to the same message', () => {
    for (const response of authorizeResponses) {
      for (const keep of [true, false]) {
        const expected = plain.Authorize!.responseSerialize(wireOf(response));
        const actual = prepared.Authorize(preparedOf(response, keep));
        assert.deepEqual(actual, expected, JSON.stringify(response));
        assert.deepEqual(decode('Authorize', actual), decode('Authorize', expected));
      }
    }
    // And twice for the same principal object, after its bytes were prepared.
    assert.deepEqual(
      prepared.Authorize(preparedOf(authorizeResponses[0]!)),
      plain.Authorize!.responseSerialize(wireOf(authorizeResponses[0]!)),
    );
  });

  it('Verify and AuthorizeBatch: the plain encoder bytes', () => {
    for (const response of verifyResponses) {
      assert.deepEqual(prepared.Verify(preparedOf(response)), plain.Verify!.responseSerialize(wireOf(response)));
    }
    for (const results of [authorizeResponses, authorizeResponses.slice(0, 1), []]) {
      const expected = plain.AuthorizeBatch!.responseSerialize({ results: results.map(wireOf) });
      const actual = prepared.AuthorizeBatch({ results: results.map((r) => preparedOf(r)) });
      assert.deepEqual(actual, expected);
      assert.deepEqual(decode('AuthorizeBatch', actual), decode('AuthorizeBatch', expected));
    }
  });

  it('the service definition keeps its paths and request decoding, and serves the prepared encoders', () => {
    const service = withPreparedResponses(plain, prepared);
    assert.deepEqual(Object.keys(service), Object.keys(plain));
    for (const name of ['Verify', 'Authorize', 'AuthorizeBatch']) {
      assert.equal(service[name]!.path, plain[name]!.path);
      assert.equal(service[name]!.requestDeserialize, plain[name]!.requestDeserialize);
      assert.equal(service[name]!.responseSerialize, prepared[name as keyof typeof prepared]);
    }
  });

  it('a principal not worth keeping (served fresh, not from a cache) is written to the same bytes and remembered nowhere', () => {
    const once = { ...principal, subject: 'seen-once' };
    const fresh = preparePrincipal(once, false);
    assert.notEqual(preparePrincipal(once, false), fresh, 'written again: nothing was remembered');
    const keptBytes = preparePrincipal(once, true);
    assert.equal(preparePrincipal(once, true), keptBytes, 'kept: prepared once');
    assert.equal(preparePrincipal(once, false), keptBytes, 'once kept, every later call gets the same bytes');
    assert.deepEqual(Buffer.from(fresh), Buffer.from(keptBytes));
    assert.deepEqual(Buffer.from(keptBytes), Buffer.from(principalType.encode(principalType.fromObject(toWirePrincipal(once))).finish()));
  });

  it('kept principal bytes: in a buffer of their own (never a slice of the shared pool)', () => {
    const bytes = preparePrincipal(principal, true);
    assert.equal(bytes.byteOffset, 0);
    assert.equal(bytes.buffer.byteLength, bytes.length);
    assert.notEqual(preparePrincipal(bare, true), bytes);
  });

  it('prepared bytes: encoded once per object, in a buffer of their own (never a slice of the shared pool)', () => {
    const structType = loadGatehouseTypes().lookupType('google.protobuf.Struct');
    const structBytes = preparedBytes<object>(structType);
    const struct = { fields: { sub: { stringValue: 'alice' } } };
    const bytes = structBytes(struct);
    assert.equal(structBytes(struct), bytes);
    assert.equal(bytes.byteOffset, 0);
    assert.equal(bytes.buffer.byteLength, bytes.length);
    assert.notEqual(structBytes({ fields: {} }), bytes);
  });
});
