// The real Microsoft-signed v1 token, through the same code path as every token: discovery → JWKS → verify.
// Only the network edge (fetch) and the clock are fake.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateConfig } from '../../src/config/load.js';
import { createVerificationContext } from '../../src/verification/verifier.js';
import { verifyToken } from '../../src/verification/verify-token.js';
import { readVector, type RealEntraToken } from '../helpers/vectors.js';
import { reasonOf } from './outcome.js';

const vector = readVector<RealEntraToken>('entra-v1-token.json');
const v1Discovery = readVector('entra-common-2024/v1-openid-configuration.json');
const v2Discovery = readVector('entra-common-2024/v2-openid-configuration.json');
const AUTHORITY = 'https://login.microsoftonline.com';

/** Serves the tenant's v1 and v2 discovery documents (issuer filled in, as Entra does) and the vector's JWKS. */
function fakeEntra(): { fetch: typeof fetch; urls: string[] } {
  const urls: string[] = [];
  const tenant = vector.expect.tenant_id;
  const fetchImpl = (async (input: string | URL | Request) => {
    const url = String(input);
    urls.push(url);
    if (url === `${AUTHORITY}/${tenant}/.well-known/openid-configuration`) {
      const doc = {
        ...v1Discovery,
        issuer: String(v1Discovery.issuer).replace('{tenantid}', tenant),
        jwks_uri: `${AUTHORITY}/${tenant}/discovery/keys`,
      };
      return Response.json(doc);
    }
    if (url === `${AUTHORITY}/${tenant}/v2.0/.well-known/openid-configuration`) {
      const doc = {
        ...v2Discovery,
        issuer: String(v2Discovery.issuer).replace('{tenantid}', tenant),
        jwks_uri: `${AUTHORITY}/${tenant}/discovery/v2.0/keys`,
      };
      return Response.json(doc);
    }
    if (url.startsWith(`${AUTHORITY}/${tenant}/discovery/`)) return Response.json(vector.jwks);
    return new Response('not found', { status: 404 });
  }) as typeof fetch;
  return { fetch: fetchImpl, urls };
}

function context(at: string, versions: (1 | 2)[] = [1, 2]) {
  const config = validateConfig({
    issuers: [
      { id: 'cyrano', type: 'entra', tenant: vector.expect.tenant_id, token_versions: versions, audiences: [vector.expect.audience] },
    ],
  });
  const fake = fakeEntra();
  const now = Date.parse(at);
  return { ctx: createVerificationContext(config, { fetch: fake.fetch, clock: () => now }), fake };
}

describe('the real Microsoft-signed Entra v1 token', () => {
  it('verifies at its own clock, found by x5t, with the expected principal', async () => {
    const { ctx, fake } = context(vector.clock.check_at);
    const principal = await verifyToken(ctx, vector.token);
    assert.equal(principal.issuer, vector.expect.issuer);
    assert.equal(principal.issuerId, 'cyrano');
    assert.equal(principal.tenantId, vector.expect.tenant_id);
    assert.equal(principal.objectId, vector.expect.object_id);
    assert.equal(principal.subject, vector.expect.subject);
    assert.equal(principal.tokenVersion, vector.expect.version);
    assert.deepEqual(principal.roles, []);
    assert.deepEqual(principal.scopes, []);
    assert.ok(
      fake.urls.some((u) => u.endsWith('/discovery/keys')),
      'keys came from the discovered jwks_uri',
    );
  });

  it("is refused as expired at today's clock", async () => {
    const { ctx } = context(new Date().toISOString());
    assert.equal(await reasonOf(verifyToken(ctx, vector.token)), 'TOKEN_EXPIRED');
  });

  it('is refused when only v2 tokens are accepted (its issuer is the v1 one)', async () => {
    const { ctx } = context(vector.clock.check_at, [2]);
    assert.equal(await reasonOf(verifyToken(ctx, vector.token)), 'ISSUER_NOT_TRUSTED');
  });

  it('accepts "Bearer " in any case', async () => {
    const { ctx } = context(vector.clock.check_at);
    assert.equal((await verifyToken(ctx, `bEaReR ${vector.token}`)).subject, vector.expect.subject);
  });

  it('fails when any single byte of the token changes', async () => {
    const { ctx } = context(vector.clock.check_at);
    await verifyToken(ctx, vector.token); // warm the key cache
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    // Every position in the payload and signature, and a sample of the header.
    const positions = [...Array(vector.token.length).keys()].filter((i) => vector.token[i] !== '.');
    let refused = 0;
    for (const i of positions) {
      const original = vector.token[i]!;
      const replacement = alphabet[(alphabet.indexOf(original) + 1) % alphabet.length]!;
      const tampered = vector.token.slice(0, i) + replacement + vector.token.slice(i + 1);
      const reason = await reasonOf(verifyToken(ctx, tampered));
      // A changed last base64 character can decode to the same bytes (unused low bits): only then may it pass.
      if (reason === 'VALID') {
        assert.equal(
          Buffer.from(tampered.split('.')[2]!, 'base64url').equals(Buffer.from(vector.token.split('.')[2]!, 'base64url')) ||
            i === vector.token.indexOf('.') - 1 ||
            i === vector.token.lastIndexOf('.') - 1,
          true,
          `byte ${i} changed and the token still verified`,
        );
      } else refused++;
    }
    assert.ok(refused > positions.length - 4, `refused ${refused} of ${positions.length}`);
  });
});
