// A provider replaces a signing key under the same `kid`, or replaces its one kid-less key, end to end through
// the real gRPC server and a loopback OIDC issuer over HTTP. Without waiting for the hourly refresh: tokens of
// the new key are accepted (a failed signature on a cached key refetches, under the unknown-kid cooldown), and
// tokens of the replaced key are refused, fresh or cached (keys are compared by material, so what the old key
// verified is dropped). Only the clock is moved, past the cooldown.
import assert from 'node:assert/strict';
import { after, afterEach, describe, it } from 'node:test';
import { startTestGatehouse, type TestGatehouse } from '../helpers/gatehouse.js';
import {
  LOOPBACK_AUDIENCE,
  startLoopbackIssuer,
  type LoopbackIssuer,
  type LoopbackIssuerOptions,
} from '../verification/loopback-issuer.js';

const ACTION = 'orders:read';
const COOLDOWN_MS = 30_000;

describe('a signing key replaced under its name', () => {
  const issuers: LoopbackIssuer[] = [];
  let gh: TestGatehouse | undefined;
  afterEach(async () => {
    await gh?.close();
    gh = undefined;
  });
  after(async () => {
    await Promise.all(issuers.map((i) => i.close()));
  });

  async function setup(options: LoopbackIssuerOptions) {
    const issuer = await startLoopbackIssuer(options);
    issuers.push(issuer);
    let offsetMs = 0;
    gh = await startTestGatehouse(
      {
        issuers: [{ id: 'partner', type: 'oidc', issuer: issuer.issuer, audiences: [LOOPBACK_AUDIENCE] }],
        keys: { unknown_kid_cooldown: `${COOLDOWN_MS}ms` },
        rules: [{ id: 'orders', actions: [ACTION] }],
      },
      { clock: () => Date.now() + offsetMs },
    );
    // Past the cooldown since the first fetch (well within the 60 s clock skew the tokens' times allow).
    const pastCooldown = () => void (offsetMs += COOLDOWN_MS + 1000);
    return { issuer, gh, pastCooldown };
  }

  async function reasonOf(gh: TestGatehouse, token: string): Promise<string> {
    const { response } = await gh.client.authorize(token, ACTION);
    return response.allowed ? 'ALLOWED' : (response.denial?.reason ?? '?');
  }

  for (const [name, options, header] of [
    ['the same kid', { publish: ['rsa'] }, {}],
    ['the single kid-less key', { publish: ['rsa'], kids: false }, { kid: undefined }],
    ['the same kid, beside another key', {}, {}],
  ] as const) {
    it(`${name}: the new key's tokens are accepted at once, the old key's refused, fresh or cached`, async () => {
      const { issuer, gh, pastCooldown } = await setup(options);
      const oldCached = issuer.token({ claims: { sub: 'cached' }, header });
      const oldFresh = issuer.token({ claims: { sub: 'fresh' }, header });
      assert.equal(await reasonOf(gh, oldCached), 'ALLOWED');
      assert.equal(await reasonOf(gh, oldCached), 'ALLOWED', 'now from the decision cache');
      assert.equal((await gh.client.verify(oldCached)).response.valid, true);
      const fetchesBefore = issuer.jwksRequests();

      issuer.replaceKey('rsa');
      pastCooldown();
      const fresh = issuer.token({ claims: { sub: 'new' }, header });
      assert.equal(await reasonOf(gh, fresh), 'ALLOWED', 'the new key is fetched on the failed signature');
      assert.equal(await reasonOf(gh, oldCached), 'SIGNATURE_INVALID', 'the cached decision went with the old key');
      assert.equal((await gh.client.verify(oldCached)).response.denial?.reason, 'SIGNATURE_INVALID', 'and the verified token');
      assert.equal(await reasonOf(gh, oldFresh), 'SIGNATURE_INVALID');
      assert.equal(await reasonOf(gh, fresh), 'ALLOWED');

      // Forged signatures within the cooldown cost no fetch: one refetch in all.
      for (let i = 0; i < 20; i++) assert.equal(await reasonOf(gh, oldFresh), 'SIGNATURE_INVALID');
      assert.equal(issuer.jwksRequests() - fetchesBefore, 1);
    });
  }

  it('the same material published with another alg: what the key verified under its old alg is dropped too', async () => {
    const { issuer, gh, pastCooldown } = await setup({ publish: ['rsa'] });
    const rs256 = issuer.token({ claims: { sub: 'cached' } });
    assert.equal(await reasonOf(gh, rs256), 'ALLOWED');
    assert.equal(await reasonOf(gh, rs256), 'ALLOWED', 'now from the decision cache');

    issuer.publishAlg('rsa', 'PS256');
    pastCooldown();
    // An unknown kid refetches the key set, which now says the key signs PS256 only.
    assert.equal(await reasonOf(gh, issuer.token({ header: { kid: 'unknown-kid' } })), 'KEY_NOT_FOUND');
    assert.equal(await reasonOf(gh, rs256), 'ALGORITHM_NOT_ALLOWED', 'the cached RS256 decision went with the old binding');
  });

  it('a failed signature refetches at most once per cooldown, and the key unchanged keeps SIGNATURE_INVALID', async () => {
    const { issuer, gh, pastCooldown } = await setup({ publish: ['rsa'] });
    const token = issuer.token();
    const [head, payload] = token.split('.');
    const forged = issuer.signParts(head!, payload!, 'stranger'); // same kid, another key's signature
    const fetchesBefore = issuer.jwksRequests();
    assert.equal(await reasonOf(gh, forged), 'SIGNATURE_INVALID');
    assert.equal(issuer.jwksRequests() - fetchesBefore, 0, 'within the cooldown of the first fetch: no refetch');
    pastCooldown();
    assert.equal(await reasonOf(gh, forged), 'SIGNATURE_INVALID');
    assert.equal(await reasonOf(gh, forged), 'SIGNATURE_INVALID');
    assert.equal(issuer.jwksRequests() - fetchesBefore, 1);
    assert.equal(await reasonOf(gh, token), 'ALLOWED', 'an unchanged key drops nothing');
  });
});
