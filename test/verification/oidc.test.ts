// A standard OIDC issuer end to end: a real oidc-provider issues RFC 9068 client-credentials tokens; discovery,
// JWKS and verification all go over loopback HTTP. Only the clock is moved (for the unknown-kid cooldown).
import assert from 'node:assert/strict';
import { decodeProtectedHeader } from 'jose';
import { after, before, describe, it } from 'node:test';
import { validateConfig } from '../../src/config/load.js';
import { createVerificationContext } from '../../src/verification/verifier.js';
import { verifyToken, type VerificationContext } from '../../src/verification/verify-token.js';
import { startOidcProvider, type TestOidcProvider } from '../helpers/oidc-provider.js';
import { reasonOf } from './outcome.js';

const API = 'https://api.gatehouse.test';
const OTHER_API = 'https://other.gatehouse.test';

describe('OIDC issuer (oidc-provider, client credentials)', () => {
  let op: TestOidcProvider;
  let stranger: TestOidcProvider;
  const contexts: VerificationContext[] = [];

  before(async () => {
    [op, stranger] = await Promise.all([
      startOidcProvider({
        clients: [
          { client_id: 'orders', client_secret: 'orders-secret', roles: ['orders.read', 'orders.write'], scope: 'api.read api.write' },
        ],
      }),
      startOidcProvider(),
    ]);
  });
  after(async () => {
    for (const ctx of contexts) ctx.keyCache.stop();
    await Promise.all([op.close(), stranger.close()]);
  });

  function context(issuer: Record<string, unknown> = {}, keys: Record<string, unknown> = {}, clock?: () => number): VerificationContext {
    const config = validateConfig({ issuers: [{ id: 'op', type: 'oidc', issuer: op.issuer, audiences: [API], ...issuer }], keys });
    const ctx = createVerificationContext(config, clock ? { clock } : {});
    contexts.push(ctx);
    return ctx;
  }

  it('verifies a client-credentials token: the client is the subject, app-only, roles and scopes', async () => {
    const ctx = context();
    await ctx.keyCache.start();
    const p = await verifyToken(ctx, await op.token({ clientId: 'orders', resource: API, scope: 'api.read api.write' }));
    assert.equal(p.issuer, op.issuer);
    assert.equal(p.issuerId, 'op');
    assert.equal(p.subject, 'orders');
    assert.equal(p.clientId, 'orders');
    assert.equal(p.appOnly, true);
    assert.deepEqual(p.roles, ['orders.read', 'orders.write']);
    assert.deepEqual([...p.scopes].sort(), ['api.read', 'api.write']);
    assert.equal(p.tenantId, '');
    assert.equal(p.tokenVersion, '');
  });

  it('refuses a token for another resource as AUDIENCE_MISMATCH', async () => {
    const token = await op.token({ clientId: 'orders', resource: OTHER_API });
    assert.equal(await reasonOf(verifyToken(context(), token)), 'AUDIENCE_MISMATCH');
  });

  it('one provider configured as two issuers (two audiences): each token goes to the issuer of its audience', async () => {
    const config = validateConfig({
      issuers: [
        { id: 'orders', type: 'oidc', issuer: op.issuer, audiences: [API] },
        { id: 'billing', type: 'oidc', issuer: op.issuer, audiences: [OTHER_API] },
      ],
    });
    const ctx = createVerificationContext(config);
    contexts.push(ctx);
    assert.equal((await verifyToken(ctx, await op.token({ clientId: 'orders', resource: API }))).issuerId, 'orders');
    assert.equal((await verifyToken(ctx, await op.token({ clientId: 'orders', resource: OTHER_API }))).issuerId, 'billing');
    const neither = await op.token({ clientId: 'orders', resource: 'https://third.example' });
    assert.equal(await reasonOf(verifyToken(ctx, neither)), 'AUDIENCE_MISMATCH');
  });

  it('an untrusted issuer is ISSUER_NOT_TRUSTED even while another configured OIDC provider is down', async () => {
    const config = validateConfig({
      issuers: [
        { id: 'op', type: 'oidc', issuer: op.issuer, audiences: [API] },
        { id: 'down', type: 'oidc', issuer: 'http://127.0.0.1:9/', audiences: [API] },
      ],
    });
    const ctx = createVerificationContext(config);
    contexts.push(ctx);
    await ctx.keyCache.start();
    assert.equal(await reasonOf(verifyToken(ctx, await stranger.token({ resource: API }))), 'ISSUER_NOT_TRUSTED');
  });

  it('refuses a token from an issuer that is not configured as ISSUER_NOT_TRUSTED', async () => {
    const token = await stranger.token({ resource: API });
    assert.equal(await reasonOf(verifyToken(context(), token)), 'ISSUER_NOT_TRUSTED');
  });

  it("refuses an algorithm outside the issuer's allow-list as ALGORITHM_NOT_ALLOWED", async () => {
    const token = await op.token({ clientId: 'orders', resource: API });
    assert.equal(decodeProtectedHeader(token).alg, 'RS256');
    const requestsBefore = op.jwksRequests();
    assert.equal(await reasonOf(verifyToken(context({ algorithms: ['ES256'] }), token)), 'ALGORITHM_NOT_ALLOWED');
    assert.equal(op.jwksRequests(), requestsBefore, 'refused before any key is fetched');
  });

  it('follows a key rotation: the new kid costs one refetch, the old token then gets KEY_NOT_FOUND', async () => {
    let offset = 0;
    const ctx = context({}, { unknown_kid_cooldown: '30s' }, () => Date.now() + offset);
    const oldToken = await op.token({ clientId: 'orders', resource: API });
    assert.equal(await reasonOf(verifyToken(ctx, oldToken)), 'VALID');
    const oldKid = decodeProtectedHeader(oldToken).kid;

    await op.rotateKeys();
    const newToken = await op.token({ clientId: 'orders', resource: API });
    assert.notEqual(decodeProtectedHeader(newToken).kid, oldKid);

    offset = 31_000; // past the unknown-kid cooldown since the first fetch
    const before = op.jwksRequests();
    assert.equal(await reasonOf(verifyToken(ctx, newToken)), 'VALID');
    assert.equal(op.jwksRequests() - before, 1, 'the unknown kid triggered exactly one refetch');

    // The old key left the JWKS with that refetch; within the cooldown the old token is refused without another.
    assert.equal(await reasonOf(verifyToken(ctx, oldToken)), 'KEY_NOT_FOUND');
    assert.equal(op.jwksRequests() - before, 1);
    assert.equal(await reasonOf(verifyToken(ctx, newToken)), 'VALID');
  });
});
