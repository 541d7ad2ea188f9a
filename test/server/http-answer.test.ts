// The HTTP shape of a decision that the proxy doors share: every identity header, always, with claim values that
// can never smuggle a header; 401/403/503 by reason kind; RFC 6750 challenges.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Principal } from '../../src/contract/principal.js';
import { allowedHeaders, denialStatus, IDENTITY_HEADERS, identityHeaders, wwwAuthenticate } from '../../src/server/http-answer.js';

const principal = (overrides: Partial<Principal> = {}): Principal => ({
  issuer: 'https://idp.example',
  issuerId: 'idp',
  subject: 'alice',
  tenantId: '',
  objectId: 'oid-1',
  clientId: 'spa',
  roles: ['Orders.Read', 'Orders.Write'],
  scopes: ['orders.read'],
  groups: [],
  groupsOverage: false,
  appOnly: false,
  expiresAt: 0,
  tokenVersion: '',
  claims: {},
  ...overrides,
});

describe('identity headers', () => {
  it('are all sent, in order, empty where the token has no such claim', () => {
    const headers = identityHeaders(principal());
    assert.deepEqual(Object.keys(headers), [...IDENTITY_HEADERS]);
    assert.equal(headers['x-gatehouse-tenant'], '');
    assert.equal(headers['x-gatehouse-roles'], 'Orders.Read,Orders.Write');
    assert.deepEqual(
      Object.values(identityHeaders(undefined)),
      IDENTITY_HEADERS.map(() => ''),
    );
  });

  it('percent-encode anything that is not printable ASCII, so a claim can never add a header', () => {
    const headers = identityHeaders(principal({ subject: 'eve\r\nx-gatehouse-roles: Admin', clientId: 'café 100%' }));
    assert.equal(headers['x-gatehouse-subject'], 'eve%0D%0Ax-gatehouse-roles: Admin');
    assert.equal(headers['x-gatehouse-client'], 'caf%C3%A9 100%25');
  });

  it('encode a "," inside a role or scope, so one role can never read as two', () => {
    const headers = identityHeaders(principal({ roles: ['Orders.Read', 'x,Orders.Admin'], scopes: ['a,b'] }));
    assert.equal(headers['x-gatehouse-roles'], 'Orders.Read,x%2COrders.Admin');
    assert.deepEqual(headers['x-gatehouse-roles'].split(',').map(decodeURIComponent), ['Orders.Read', 'x,Orders.Admin']);
    assert.equal(headers['x-gatehouse-scopes'], 'a%2Cb');
  });

  it("forward auth's allow: the identity headers and content-length 0, built once per principal object", () => {
    const alice = principal();
    const headers = allowedHeaders(alice);
    assert.deepEqual(headers, { ...identityHeaders(alice), 'content-length': '0' });
    assert.equal(allowedHeaders(alice), headers);
    assert.equal(Object.isFrozen(headers), true);
    const bob = principal({ subject: 'bob' });
    assert.equal(allowedHeaders(bob)['x-gatehouse-subject'], 'bob');
    assert.deepEqual(allowedHeaders(undefined), { ...identityHeaders(undefined), 'content-length': '0' });
  });
});

describe('refusals', () => {
  it('401 for token problems, 403 for the rules, 503 when keys are unavailable', () => {
    assert.equal(denialStatus('TOKEN_EXPIRED'), 401);
    assert.equal(denialStatus('MISSING_ROLE'), 403);
    assert.equal(denialStatus('PATH_NOT_CANONICAL'), 403);
    assert.equal(denialStatus('KEYS_UNAVAILABLE'), 503);
  });

  it('challenge as RFC 6750 says, with the reason and an escaped description', () => {
    assert.equal(wwwAuthenticate('TOKEN_MISSING', 'no token'), 'Bearer realm="gatehouse"');
    assert.equal(
      wwwAuthenticate('TOKEN_EXPIRED', 'the token "expired"\n'),
      'Bearer realm="gatehouse", error="invalid_token", error_description="TOKEN_EXPIRED: the token \\"expired\\""',
    );
    assert.match(wwwAuthenticate('MISSING_SCOPE', 'needs orders.read')!, /error="insufficient_scope"/);
    assert.equal(wwwAuthenticate('KEYS_UNAVAILABLE', 'down'), undefined);
  });
});
