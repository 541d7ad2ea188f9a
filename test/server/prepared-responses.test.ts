// The prepared response encoders (principal bytes encoded once, per-call fields written around them) produce the
// plain encoder's bytes, so the wire format is unchanged whatever a response holds.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ServiceDefinition } from '@grpc/grpc-js';
import type { AuthorizeResponse, VerifyResponse, WirePrincipal } from '../../src/contract/messages.js';
import type { Principal } from '../../src/contract/principal.js';
import { AUTH_SERVICE_NAME, loadGatehouseProto, loadGatehouseTypes } from '../../src/contract/proto.js';
import { durationFromMs } from '../../src/contract/wire-duration.js';
import { isKeptWirePrincipal, toWirePrincipal } from '../../src/contract/wire-principal.js';
import { preparedBytes } from '../../src/server/prepared-bytes.js';
import { responseEncoders, withPreparedResponses } from '../../src/server/prepared-responses.js';

const plain = loadGatehouseProto()[AUTH_SERVICE_NAME] as ServiceDefinition;
const prepared = responseEncoders(loadGatehouseTypes());

const principal: Principal = {
  issuer: 'https://login.microsoftonline.com/t/v2.0',
  issuerId: 'contoso',
  subject: 'alice',
  tenantId: 't',
  objectId: 'o',
  clientId: 'app',
  roles: ['Orders.Read', 'Orders.Write'],
  scopes: ['user_impersonation'],
  groups: ['g1', 'g2'],
  groupsOverage: true,
  appOnly: false,
  expiresAt: 1_800_000_000,
  tokenVersion: '2.0',
  claims: { sub: 'alice', n: 1.5, big: 2 ** 40, yes: true, nothing: null, nested: { list: [1, 'two', false, null, { deep: 'é€😀' }] } },
};
const bare: Principal = { ...principal, roles: [], scopes: [], groups: [], groupsOverage: false, tokenVersion: '', claims: {} };

const authorizeResponses: AuthorizeResponse[] = [
  { allowed: true, principal: toWirePrincipal(principal), denial: null, rule: 'orders-read', cacheFor: durationFromMs(60_000) },
  // The same principal again, another per-call cache_for (the prepared bytes are reused).
  { allowed: true, principal: toWirePrincipal(principal), denial: null, rule: 'orders-read', cacheFor: durationFromMs(1_234) },
  { allowed: true, principal: toWirePrincipal(bare), denial: null, rule: '', cacheFor: durationFromMs(0) },
  {
    allowed: false,
    principal: toWirePrincipal(principal),
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
];
const verifyResponses: VerifyResponse[] = [
  { valid: true, principal: toWirePrincipal(principal), denial: null },
  { valid: false, principal: null, denial: { reason: 'SIGNATURE_INVALID', message: 'bad signature' } },
];

const decode = (name: string, bytes: Buffer) => plain[name]!.responseDeserialize(bytes);

describe('prepared AuthService responses', () => {
  it('Authorize: the plain encoder bytes, per-call fields included, and they decode to the same message', () => {
    for (const response of authorizeResponses) {
      const expected = plain.Authorize!.responseSerialize(response);
      const actual = prepared.Authorize(response);
      assert.deepEqual(actual, expected, JSON.stringify(response));
      assert.deepEqual(decode('Authorize', actual), decode('Authorize', expected));
    }
    // And twice for the same principal object, after its bytes were prepared.
    assert.deepEqual(prepared.Authorize(authorizeResponses[0]!), plain.Authorize!.responseSerialize(authorizeResponses[0]!));
  });

  it('Verify and AuthorizeBatch: the plain encoder bytes', () => {
    for (const response of verifyResponses) {
      assert.deepEqual(prepared.Verify(response), plain.Verify!.responseSerialize(response));
    }
    for (const results of [authorizeResponses, authorizeResponses.slice(0, 1), []]) {
      const expected = plain.AuthorizeBatch!.responseSerialize({ results });
      assert.deepEqual(prepared.AuthorizeBatch({ results }), expected);
      assert.deepEqual(decode('AuthorizeBatch', prepared.AuthorizeBatch({ results })), decode('AuthorizeBatch', expected));
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

  it('a principal not worth keeping (served fresh, not from a cache) is encoded to the same bytes and remembered nowhere', () => {
    const once = { ...principal, subject: 'seen-once' };
    const wire = toWirePrincipal(once, false);
    assert.equal(isKeptWirePrincipal(wire), false);
    assert.notEqual(toWirePrincipal(once, false), wire, 'converted again: nothing was remembered');
    const response = { allowed: true, principal: wire, denial: null, rule: 'orders-read', cacheFor: durationFromMs(0) };
    assert.deepEqual(prepared.Authorize(response), plain.Authorize!.responseSerialize(response));
    const keptWire = toWirePrincipal(once);
    assert.equal(isKeptWirePrincipal(keptWire), true);
    assert.equal(toWirePrincipal(once, false), keptWire, 'once kept, every later call gets the same one');
    const principalBytes = preparedBytes<WirePrincipal>(loadGatehouseTypes().lookupType('gatehouse.v1.Principal'), isKeptWirePrincipal);
    assert.equal(principalBytes(keptWire), principalBytes(keptWire), 'kept: prepared once');
    assert.notEqual(principalBytes(wire), principalBytes(wire), 'not kept: encoded each time');
    assert.deepEqual(Buffer.from(principalBytes(wire)), Buffer.from(principalBytes(keptWire)));
  });

  it('prepared bytes: encoded once per object, in a buffer of their own (never a slice of the shared pool)', () => {
    const principalBytes = preparedBytes<object>(loadGatehouseTypes().lookupType('gatehouse.v1.Principal'));
    const wire = toWirePrincipal(principal);
    const bytes = principalBytes(wire);
    assert.equal(principalBytes(wire), bytes);
    assert.equal(bytes.byteOffset, 0);
    assert.equal(bytes.buffer.byteLength, bytes.length);
    assert.notEqual(principalBytes(toWirePrincipal(bare)), bytes);
  });
});
