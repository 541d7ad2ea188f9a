// Hostile tokens built by hand against a loopback issuer whose keys the test holds: each refusal has its reason.
// The table at the end checks that every Reason the core can give is produced here or, where it cannot be
// produced with a plain OIDC issuer, by a named test file that asserts it.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { validateConfig } from '../../src/config/load.js';
import { TokenReasons as Reasons, type TokenReason } from '../../src/contract/reasons.js';
import { createVerificationContext } from '../../src/verification/verifier.js';
import { verifyToken, type VerificationContext } from '../../src/verification/verify-token.js';
import { b64, LOOPBACK_AUDIENCE, startLoopbackIssuer, type LoopbackIssuer } from './loopback-issuer.js';
import { reasonOf } from './outcome.js';

const MAX_BYTES = 2048;

/** Reasons this file cannot produce with an OIDC issuer, and the test file that asserts each. */
const COVERED_ELSEWHERE: Partial<Record<TokenReason, string>> = {
  TENANT_NOT_ALLOWED: 'entra.test.ts',
  // A verified token refused by the revocation list: the engine's check, through the real doors.
  TOKEN_REVOKED: '../server/revocation.test.ts',
};

describe('refusal reasons of hostile tokens', () => {
  let issuer: LoopbackIssuer;
  let downIssuer: LoopbackIssuer;
  let ctx: VerificationContext;
  let downCtx: VerificationContext;
  const produced = new Set<TokenReason>();

  before(async () => {
    [issuer, downIssuer] = await Promise.all([startLoopbackIssuer(), startLoopbackIssuer()]);
    const config = (iss: string) =>
      validateConfig({
        issuers: [{ id: 'loop', type: 'oidc', issuer: iss, audiences: [LOOPBACK_AUDIENCE], algorithms: ['RS256', 'ES256'] }],
        tokens: { max_bytes: MAX_BYTES },
      });
    ctx = createVerificationContext(config(issuer.issuer));
    await ctx.keyCache.start();
    downIssuer.setDown(true);
    downCtx = createVerificationContext(config(downIssuer.issuer));
    await downCtx.keyCache.start();
  });
  after(async () => {
    ctx.keyCache.stop();
    downCtx.keyCache.stop();
    await Promise.all([issuer.close(), downIssuer.close()]);
  });

  async function expectReason(token: string, reason: TokenReason, context = ctx): Promise<void> {
    assert.equal(await reasonOf(verifyToken(context, token)), reason, `token ${JSON.stringify(token.slice(0, 80))}`);
    produced.add(reason);
  }
  const claims = (extra: Record<string, unknown> = {}) => {
    const now = Math.floor(Date.now() / 1000);
    return { iss: issuer.issuer, sub: 'svc', aud: LOOPBACK_AUDIENCE, iat: now, nbf: now, exp: now + 600, ...extra };
  };

  it('accepts the unaltered token (the baseline every refusal below departs from)', async () => {
    assert.equal(await reasonOf(verifyToken(ctx, issuer.token())), 'VALID');
    assert.equal(await reasonOf(verifyToken(ctx, issuer.token({ key: 'ec' }))), 'VALID');
    assert.equal(await reasonOf(verifyToken(ctx, `Bearer ${issuer.token()}`)), 'VALID');
  });

  it('TOKEN_MISSING: empty, blank, or a bare "Bearer "', async () => {
    for (const raw of ['', '   ', 'Bearer ', 'bearer\t', 'Bearer']) await expectReason(raw, 'TOKEN_MISSING');
  });

  it('TOKEN_MALFORMED: wrong segment count, not base64url, not JSON, not an object', async () => {
    const header = b64({ alg: 'RS256', kid: issuer.kid('rsa') });
    const payload = b64(claims());
    const malformed = [
      `${header}.${payload}`,
      `${header}.${payload}.c2ln.c2ln`,
      'onlyonesegment',
      `${header}.${payload}.!!!`,
      `${header}.pay load.c2ln`,
      `${header}.${payload}.A`, // a base64url length that cannot exist
      `${b64('not json')}.${payload}.c2ln`,
      `${header}.${b64('{"iss": ')}.c2ln`,
      `${header}.${b64([1, 2, 3])}.c2ln`,
      `${b64([{ alg: 'RS256' }])}.${payload}.c2ln`,
      `${header}.${b64('null')}.c2ln`,
      `${header}.${b64('"a string"')}.c2ln`,
      `${b64({ kid: issuer.kid('rsa') })}.${payload}.c2ln`, // no alg
      `${b64({ alg: 'RS256', kid: 42 })}.${payload}.c2ln`,
      `${b64({ alg: 'RS256', x5t: ['a'] })}.${payload}.c2ln`,
      `${header}.${payload}.`, // unsigned, though alg says RS256
    ];
    for (const token of malformed) await expectReason(token, 'TOKEN_MALFORMED');
  });

  it('a header seen before is checked again: a refused one is refused every time, a kept one never vouches for a payload', async () => {
    const graph = issuer.token({ header: { nonce: 'graph' } });
    for (let i = 0; i < 3; i++) await expectReason(graph, 'TOKEN_NOT_FOR_THIS_API');
    const valid = issuer.token();
    assert.equal(await reasonOf(verifyToken(ctx, valid)), 'VALID');
    const [header, payload] = valid.split('.') as [string, string];
    // The same header segment, just accepted, over an unsigned and then a foreign-signed payload.
    await expectReason(`${header}.${payload}.`, 'TOKEN_MALFORMED');
    await expectReason(`${header}.${payload}.${issuer.token({ claims: { sub: 'other' } }).split('.')[2]}`, 'SIGNATURE_INVALID');
    // A flood of distinct headers (each a new kid) leaves both answers as they were.
    for (let i = 0; i < 200; i++) {
      const flooded = `${b64({ alg: 'RS256', kid: `flood-${i}`, typ: 'JWT' })}.${payload}.c2ln`;
      assert.notEqual(await reasonOf(verifyToken(ctx, flooded)), 'VALID');
    }
    assert.equal(await reasonOf(verifyToken(ctx, valid)), 'VALID');
    await expectReason(graph, 'TOKEN_NOT_FOR_THIS_API');
  });

  it('TOKEN_MALFORMED: a header that names its own key or critical extensions, even when validly signed', async () => {
    const embedded = [
      { jku: `${issuer.issuer}/jwks` },
      { x5u: 'https://evil.example/cert.pem' },
      { jwk: { kty: 'RSA', n: 'AQAB', e: 'AQAB' } },
      { x5c: ['MIIB'] },
      { crit: ['exp'], exp: 1 },
    ];
    for (const header of embedded) await expectReason(issuer.token({ header }), 'TOKEN_MALFORMED');
  });

  it('TOKEN_TOO_LARGE: over tokens.max_bytes, before any parsing', async () => {
    const big = issuer.token({ claims: { pad: 'x'.repeat(MAX_BYTES) } });
    await expectReason(big, 'TOKEN_TOO_LARGE');
    await expectReason('x'.repeat(MAX_BYTES + 1), 'TOKEN_TOO_LARGE');
    // Counted in bytes: fewer characters than the limit, more bytes (é is two bytes in UTF-8).
    await expectReason('é'.repeat(Math.ceil(MAX_BYTES / 2) + 1), 'TOKEN_TOO_LARGE');
  });

  it('ALGORITHM_NOT_ALLOWED: alg none, signed or not', async () => {
    const payload = b64(claims());
    await expectReason(`${b64({ alg: 'none' })}.${payload}.`, 'ALGORITHM_NOT_ALLOWED');
    await expectReason(`${b64({ alg: 'none', kid: issuer.kid('rsa') })}.${payload}.c2ln`, 'ALGORITHM_NOT_ALLOWED');
    // Case variants are simply algorithms nobody allowed.
    await expectReason(`${b64({ alg: 'None', kid: issuer.kid('rsa') })}.${payload}.c2ln`, 'ALGORITHM_NOT_ALLOWED');
  });

  it('ALGORITHM_NOT_ALLOWED: HS256 signed with the RSA public key (key confusion)', async () => {
    const input = `${b64({ alg: 'HS256', kid: issuer.kid('rsa'), typ: 'JWT' })}.${b64(claims())}`;
    for (const secret of [issuer.publicPem('rsa'), Buffer.from(issuer.publicPem('rsa'))]) {
      const mac = createHmac('sha256', secret).update(input).digest('base64url');
      await expectReason(`${input}.${mac}`, 'ALGORITHM_NOT_ALLOWED');
    }
  });

  it('ALGORITHM_NOT_ALLOWED: an alg that does not fit the named key, or that we do not know', async () => {
    // RS256 claimed over the EC key's kid: the token's alg must never pick how a key is used.
    await expectReason(issuer.token({ key: 'rsa', header: { kid: issuer.kid('ec') } }), 'ALGORITHM_NOT_ALLOWED');
    await expectReason(issuer.token({ header: { alg: 'RS1' } }), 'ALGORITHM_NOT_ALLOWED');
  });

  it('SIGNATURE_INVALID: another key behind a known kid, or a payload changed after signing', async () => {
    await expectReason(issuer.token({ key: 'stranger', header: { kid: issuer.kid('rsa') } }), 'SIGNATURE_INVALID');
    const [header, , signature] = issuer.token().split('.');
    await expectReason(`${header}.${b64(claims({ sub: 'admin' }))}.${signature}`, 'SIGNATURE_INVALID');
    await expectReason(`${header}.${b64(claims())}.${'A'.repeat(342)}`, 'SIGNATURE_INVALID');
  });

  it('KEY_NOT_FOUND: a kid the issuer does not publish, or no kid when it publishes several keys', async () => {
    await expectReason(issuer.token({ key: 'stranger' }), 'KEY_NOT_FOUND');
    await expectReason(issuer.token({ header: { kid: 'no-such-kid' } }), 'KEY_NOT_FOUND');
    const input = `${b64({ alg: 'RS256' })}.${b64(claims())}`;
    const [h, p] = input.split('.') as [string, string];
    await expectReason(issuer.signParts(h, p, 'rsa'), 'KEY_NOT_FOUND');
  });

  it('KEYS_UNAVAILABLE: the issuer has been down since start', async () => {
    await expectReason(downIssuer.token(), 'KEYS_UNAVAILABLE', downCtx);
  });

  it('ISSUER_NOT_TRUSTED and CLAIMS_INVALID: the issuer claim', async () => {
    await expectReason(issuer.token({ claims: { iss: 'https://evil.example' } }), 'ISSUER_NOT_TRUSTED');
    await expectReason(issuer.token({ claims: { iss: `${issuer.issuer}/` } }), 'ISSUER_NOT_TRUSTED');
    await expectReason(issuer.token({ claims: { iss: undefined } }), 'CLAIMS_INVALID');
    await expectReason(issuer.token({ claims: { iss: ['x'] } }), 'CLAIMS_INVALID');
  });

  it('CLAIMS_INVALID: claims of the wrong shape in a validly signed token', async () => {
    for (const bad of [
      { exp: '9999999999' },
      { exp: undefined },
      { nbf: null },
      { aud: undefined },
      { aud: [] },
      { aud: [1] },
      { sub: '' },
      { roles: 'admin' },
      { scope: 7 },
    ]) {
      await expectReason(issuer.token({ claims: bad }), 'CLAIMS_INVALID');
    }
  });

  it('AUDIENCE_MISMATCH, TOKEN_EXPIRED, TOKEN_NOT_YET_VALID, TOKEN_NOT_FOR_THIS_API', async () => {
    const now = Math.floor(Date.now() / 1000);
    await expectReason(issuer.token({ claims: { aud: ['https://elsewhere.test'] } }), 'AUDIENCE_MISMATCH');
    await expectReason(issuer.token({ now: now - 7200 }), 'TOKEN_EXPIRED');
    await expectReason(issuer.token({ now: now + 7200 }), 'TOKEN_NOT_YET_VALID');
    await expectReason(issuer.token({ header: { nonce: 'graph' } }), 'TOKEN_NOT_FOR_THIS_API');
  });

  it('every Reason is produced above or asserted by a named test file', () => {
    const missing = Reasons.filter((r) => !produced.has(r) && COVERED_ELSEWHERE[r] === undefined);
    assert.deepEqual(missing, [], 'reasons no test produces');
    for (const [reason, file] of Object.entries(COVERED_ELSEWHERE)) {
      assert.ok(!produced.has(reason as TokenReason), `${reason} is produced here: drop it from COVERED_ELSEWHERE`);
      const source = readFileSync(new URL(file, import.meta.url), 'utf8');
      assert.ok(source.includes(`'${reason}'`), `${file} does not assert ${reason}`);
    }
    assert.ok([...produced].every((r) => (Reasons as readonly string[]).includes(r)));
  });
});
