// Entra ID tokens end to end: discovery → JWKS → verifyToken against the loopback Entra server, which serves
// Microsoft's real discovery documents and keys plus the helper's own keys. Only the clock is ever faked.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { validateConfig } from '../../src/config/load.js';
import { createVerificationContext } from '../../src/verification/verifier.js';
import { verifyToken, type VerificationContext } from '../../src/verification/verify-token.js';
import { CONSUMER_TENANT_ID, DEFAULT_OBJECT_ID, startEntraServer, type EntraServer, type MintOptions } from '../helpers/entra-server.js';
import { reasonOf } from './outcome.js';

const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const OTHER_TENANT = '0b1e2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
const AUD = 'api://gatehouse-test';
const NOW = 1_790_000_000; // a fixed clock, in epoch seconds

describe('Entra ID tokens', () => {
  let entra: EntraServer;
  const contexts: VerificationContext[] = [];

  before(async () => {
    entra = await startEntraServer();
  });
  after(async () => {
    for (const ctx of contexts) ctx.keyCache.stop();
    await entra.close();
  });

  /** A context for one Entra issuer (single tenant TENANT unless overridden), on the fixed clock. */
  function context(issuer: Record<string, unknown> = {}, now = NOW): VerificationContext {
    const config = validateConfig({
      issuers: [{ id: 'entra', type: 'entra', authority: entra.base, tenant: TENANT, audiences: [AUD], ...issuer }],
      tokens: { clock_skew: '60s' },
    });
    const ctx = createVerificationContext(config, { clock: () => now * 1000 });
    contexts.push(ctx);
    return ctx;
  }
  const mint = (opts: Partial<MintOptions> & Pick<MintOptions, 'version'>) => entra.mint({ tid: TENANT, aud: AUD, now: NOW, ...opts });

  describe('single tenant', () => {
    let ctx: VerificationContext;
    before(async () => {
      ctx = context();
      await ctx.keyCache.start();
    });

    it('splits scp on single spaces, and drops the empty items of leading, trailing or repeated ones', async () => {
      for (const [scp, scopes] of [
        ['orders.read', ['orders.read']],
        ['orders.read orders.write', ['orders.read', 'orders.write']],
        [' orders.read', ['orders.read']],
        ['orders.read ', ['orders.read']],
        ['orders.read   orders.write', ['orders.read', 'orders.write']],
        ['', []],
      ] as const) {
        const p = await verifyToken(ctx, await mint({ version: 2, claims: { azp: 'v2-client', scp } }));
        assert.deepEqual(p.scopes, scopes, JSON.stringify(scp));
      }
    });

    it('verifies a v2 user token: issuer, tenant, object, azp client, roles, scopes split from scp, groups', async () => {
      const token = await mint({
        version: 2,
        claims: { azp: 'v2-client', roles: ['Orders.Read'], scp: 'orders.read  orders.write', groups: ['g-1', 'g-2'] },
      });
      const p = await verifyToken(ctx, token);
      assert.equal(p.issuer, `https://login.microsoftonline.com/${TENANT}/v2.0`);
      assert.equal(p.issuerId, 'entra');
      assert.equal(p.tenantId, TENANT);
      assert.equal(p.objectId, DEFAULT_OBJECT_ID);
      assert.equal(p.subject, DEFAULT_OBJECT_ID);
      assert.equal(p.clientId, 'v2-client');
      assert.deepEqual(p.roles, ['Orders.Read']);
      assert.deepEqual(p.scopes, ['orders.read', 'orders.write']);
      assert.deepEqual(p.groups, ['g-1', 'g-2']);
      assert.equal(p.groupsOverage, false);
      assert.equal(p.tokenVersion, '2.0');
      assert.equal(p.appOnly, false, 'a token with scp is delegated');
      assert.equal(p.expiresAt, NOW + 3600);
    });

    it('verifies a v1 app token: sts.windows.net issuer, client from appid, appOnly without scp', async () => {
      const token = await mint({ version: 1, claims: { appid: 'v1-client', roles: ['Orders.Admin'] } });
      const p = await verifyToken(ctx, token);
      assert.equal(p.issuer, `https://sts.windows.net/${TENANT}/`);
      assert.equal(p.tenantId, TENANT);
      assert.equal(p.objectId, DEFAULT_OBJECT_ID);
      assert.equal(p.clientId, 'v1-client');
      assert.deepEqual(p.roles, ['Orders.Admin']);
      assert.deepEqual(p.scopes, []);
      assert.equal(p.tokenVersion, '1.0');
      assert.equal(p.appOnly, true);
    });

    it('honours idtyp over the scp heuristic, both ways', async () => {
      const app = await verifyToken(ctx, await mint({ version: 2, claims: { idtyp: 'app', scp: 'orders.read' } }));
      assert.equal(app.appOnly, true);
      const user = await verifyToken(ctx, await mint({ version: 2, claims: { idtyp: 'user' } }));
      assert.equal(user.appOnly, false);
      const noScp = await verifyToken(ctx, await mint({ version: 2 }));
      assert.equal(noScp.appOnly, true, 'without idtyp, a v2 token without scp whose sub is its oid is an app token');
    });

    it('a user ID token (no scp, a pairwise sub, roles) is not taken for an app token', async () => {
      const idToken = await mint({ version: 2, claims: { sub: 'pairwise-AbC123', nonce: 'n-1', roles: ['Daemon.Run'] } });
      const p = await verifyToken(ctx, idToken);
      assert.equal(p.appOnly, false);
    });

    it('reports a groups overage from _claim_names', async () => {
      const token = await mint({
        version: 2,
        claims: { _claim_names: { groups: 'src1' }, _claim_sources: { src1: { endpoint: 'https://graph.microsoft.com/v1.0/x' } } },
      });
      const p = await verifyToken(ctx, token);
      assert.equal(p.groupsOverage, true);
      assert.deepEqual(p.groups, []);
    });

    it('finds the key of a v1 token that names it by x5t alone', async () => {
      const p = await verifyToken(ctx, await mint({ version: 1, header: 'x5t' }));
      assert.equal(p.tokenVersion, '1.0');
    });

    it('refuses a Microsoft Graph token (nonce in the header) as TOKEN_NOT_FOR_THIS_API', async () => {
      const token = await mint({ version: 1, extraHeader: { nonce: 'Zm9vYmFy' } });
      assert.equal(await reasonOf(verifyToken(ctx, token)), 'TOKEN_NOT_FOR_THIS_API');
    });

    it('refuses another audience as AUDIENCE_MISMATCH', async () => {
      const token = await mint({ version: 2, aud: 'api://someone-else' });
      assert.equal(await reasonOf(verifyToken(ctx, token)), 'AUDIENCE_MISMATCH');
    });

    for (const claim of ['exp', 'nbf', 'iat']) {
      it(`refuses a token without ${claim} as CLAIMS_INVALID`, async () => {
        assert.equal(await reasonOf(verifyToken(ctx, await mint({ version: 2, omit: [claim] }))), 'CLAIMS_INVALID');
      });
    }

    it('refuses a ver that does not match the issuer that accepted the token as CLAIMS_INVALID', async () => {
      assert.equal(await reasonOf(verifyToken(ctx, await mint({ version: 2, claims: { ver: '1.0' } }))), 'CLAIMS_INVALID');
      assert.equal(await reasonOf(verifyToken(ctx, await mint({ version: 1, claims: { ver: '2.0' } }))), 'CLAIMS_INVALID');
    });

    it('refuses a tid that is not a string with a reason, before or after the key check', async () => {
      // The v2 key names the issuer it signs for, filled in with tid: tid's shape must not break that check.
      for (const tid of [{ toString: 0 }, { valueOf: 0, toString: 0 }, ['a'], 7, null]) {
        // Without a tenant, the key cannot be shown to sign for this issuer (as Microsoft's own validator decides).
        const token = await mint({ version: 2, claims: { tid } });
        assert.equal(await reasonOf(verifyToken(ctx, token)), 'SIGNATURE_INVALID', `tid ${JSON.stringify(tid)}`);
      }
      const v1 = await mint({ version: 1, claims: { tid: { toString: 0 } } });
      assert.equal(await reasonOf(verifyToken(ctx, v1)), 'CLAIMS_INVALID');
    });

    it('refuses a token from another tenant (another iss) as ISSUER_NOT_TRUSTED', async () => {
      assert.equal(await reasonOf(verifyToken(ctx, await mint({ version: 2, tid: OTHER_TENANT }))), 'ISSUER_NOT_TRUSTED');
    });

    it('refuses a token whose tid is not the tenant its iss names as ISSUER_NOT_TRUSTED', async () => {
      for (const version of [1, 2] as const) {
        const iss = version === 2 ? `https://login.microsoftonline.com/${TENANT}/v2.0` : `https://sts.windows.net/${TENANT}/`;
        const token = await mint({ version, tid: OTHER_TENANT, claims: { iss } });
        assert.equal(await reasonOf(verifyToken(ctx, token)), 'ISSUER_NOT_TRUSTED', `v${version}`);
      }
    });
  });

  describe('time', () => {
    const ctx = () => context();
    it('refuses an expired token as TOKEN_EXPIRED, and accepts one expired within the clock skew', async () => {
      const c = ctx();
      const expired = await mint({ version: 2, now: NOW - 3600 - 61 });
      assert.equal(await reasonOf(verifyToken(c, expired)), 'TOKEN_EXPIRED');
      const withinSkew = await mint({ version: 2, now: NOW - 3600 - 30 });
      assert.equal(await reasonOf(verifyToken(c, withinSkew)), 'VALID');
    });

    it('refuses a token not yet valid as TOKEN_NOT_YET_VALID, and accepts one within the clock skew', async () => {
      const c = ctx();
      assert.equal(await reasonOf(verifyToken(c, await mint({ version: 2, notBefore: NOW + 61 }))), 'TOKEN_NOT_YET_VALID');
      assert.equal(await reasonOf(verifyToken(c, await mint({ version: 2, notBefore: NOW + 30, issuedAt: NOW + 30 }))), 'VALID');
    });

    it('follows the injected clock, not the wall clock', async () => {
      const token = await mint({ version: 2 });
      assert.equal(await reasonOf(verifyToken(context({}, NOW + 7200), token)), 'TOKEN_EXPIRED');
      assert.equal(await reasonOf(verifyToken(context({}, NOW - 7200), token)), 'TOKEN_NOT_YET_VALID');
    });
  });

  describe('token versions', () => {
    it('with token_versions [2], refuses a v1 token as ISSUER_NOT_TRUSTED and accepts v2', async () => {
      const ctx = context({ token_versions: [2] });
      assert.equal(await reasonOf(verifyToken(ctx, await mint({ version: 1 }))), 'ISSUER_NOT_TRUSTED');
      assert.equal(await reasonOf(verifyToken(ctx, await mint({ version: 2 }))), 'VALID');
    });
  });

  describe('multi-tenant (common)', () => {
    it('accepts an allowed tenant, v1 and v2, and refuses another as TENANT_NOT_ALLOWED', async () => {
      const ctx = context({ tenant: 'common', allowed_tenants: [TENANT.toUpperCase()] });
      for (const version of [1, 2] as const) {
        const p = await verifyToken(ctx, await mint({ version }));
        assert.equal(p.tenantId, TENANT);
        assert.equal(await reasonOf(verifyToken(ctx, await mint({ version, tid: OTHER_TENANT }))), 'TENANT_NOT_ALLOWED', `v${version}`);
      }
    });

    it('accepts any tenant with ["*"]', async () => {
      const ctx = context({ tenant: 'common', allowed_tenants: ['*'] });
      for (const version of [1, 2] as const) {
        const p = await verifyToken(ctx, await mint({ version, tid: OTHER_TENANT }));
        assert.equal(p.tenantId, OTHER_TENANT);
        assert.equal(
          p.issuer,
          version === 2 ? `https://login.microsoftonline.com/${OTHER_TENANT}/v2.0` : `https://sts.windows.net/${OTHER_TENANT}/`,
        );
      }
    });

    it('refuses a token whose iss names another tenant than its tid as ISSUER_NOT_TRUSTED', async () => {
      const ctx = context({ tenant: 'common', allowed_tenants: ['*'] });
      const v2 = await mint({ version: 2, tid: OTHER_TENANT, claims: { iss: `https://login.microsoftonline.com/${TENANT}/v2.0` } });
      assert.equal(await reasonOf(verifyToken(ctx, v2)), 'ISSUER_NOT_TRUSTED');
      const v1 = await mint({ version: 1, tid: OTHER_TENANT, claims: { iss: `https://sts.windows.net/${TENANT}/` } });
      assert.equal(await reasonOf(verifyToken(ctx, v1)), 'ISSUER_NOT_TRUSTED');
    });
  });

  describe('the consumer key', () => {
    it('may not sign for an organisation tenant (SIGNATURE_INVALID)', async () => {
      const ctx = context({ tenant: 'common', allowed_tenants: [TENANT, CONSUMER_TENANT_ID], token_versions: [2] });
      assert.equal(await reasonOf(verifyToken(ctx, await mint({ version: 2, key: 'consumer' }))), 'SIGNATURE_INVALID');
      // The same token shape signed by the tenant key is fine: the refusal is about which key signed.
      assert.equal(await reasonOf(verifyToken(ctx, await mint({ version: 2 }))), 'VALID');
    });

    it('signs consumer-tenant tokens, accepted when that tenant is allowed', async () => {
      const allowed = context({ tenant: 'common', allowed_tenants: [CONSUMER_TENANT_ID], token_versions: [2] });
      const token = await mint({ version: 2, tid: CONSUMER_TENANT_ID, key: 'consumer' });
      const p = await verifyToken(allowed, token);
      assert.equal(p.tenantId, CONSUMER_TENANT_ID);
      assert.equal(p.issuer, `https://login.microsoftonline.com/${CONSUMER_TENANT_ID}/v2.0`);
      const notAllowed = context({ tenant: 'common', allowed_tenants: [TENANT], token_versions: [2] });
      assert.equal(await reasonOf(verifyToken(notAllowed, token)), 'TENANT_NOT_ALLOWED');
    });

    it('organizations refuses personal accounts even with allowed_tenants ["*"]; consumers accepts only them', async () => {
      const personal = await mint({ version: 2, tid: CONSUMER_TENANT_ID, key: 'consumer' });
      const work = await mint({ version: 2, tid: OTHER_TENANT });
      const organizations = context({ tenant: 'organizations', allowed_tenants: ['*'], token_versions: [2] });
      assert.equal(await reasonOf(verifyToken(organizations, personal)), 'TENANT_NOT_ALLOWED');
      assert.equal(await reasonOf(verifyToken(organizations, work)), 'VALID');
      const consumers = context({ tenant: 'consumers', allowed_tenants: ['*'], token_versions: [2] });
      assert.equal(await reasonOf(verifyToken(consumers, personal)), 'VALID');
      assert.notEqual(await reasonOf(verifyToken(consumers, work)), 'VALID');
    });
  });
});
