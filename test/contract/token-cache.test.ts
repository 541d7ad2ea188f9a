// The one token-keyed cache (server decisions and verified tokens, client answers) on a fake clock: whole-token
// hashes, expiry at the token's exp and at maxTtl, the entry and byte bounds, one principal per token, and what
// clearing answers keeps. The client's side of it is in test/client/local-cache.test.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Principal } from '../../src/contract/principal.js';
import { hashToken, TokenCache, type TokenCacheOptions } from '../../src/contract/token-cache.js';

const T0 = 1_700_000_000_000;
const TOKEN = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl';
const ACTION = '/orders.v1.Orders/GetOrder';

interface Answer {
  readonly rule: string;
}
const ALLOW: Answer = { rule: 'allow' };
const DENY: Answer = { rule: 'deny' };
const answer = (rule: string): Answer => ({ rule });

function principal(subject: string, expiresAtMs = T0 + 3_600_000): Principal {
  return {
    issuer: 'https://issuer.example',
    issuerId: 'example',
    subject,
    tenantId: '',
    objectId: subject,
    clientId: 'app',
    roles: [],
    scopes: [],
    groups: [],
    groupsOverage: false,
    appOnly: false,
    expiresAt: expiresAtMs / 1000,
    tokenVersion: '',
    claims: { sub: subject },
  };
}

/** A cache whose clock the test moves by hand, with helpers that take the token itself. */
function fakeClockCache(options: Partial<TokenCacheOptions> = {}) {
  const time = { now: T0 };
  const cache = new TokenCache<Answer>({ maxEntries: 100, maxTtlMs: 60_000, ...options, clock: () => time.now });
  const put = (token: string, action: string, value: Answer, expiresAtMs: number, tokenLength = token.length) =>
    cache.set(hashToken(token), action, value, undefined, expiresAtMs, tokenLength);
  const read = (token: string, action: string) => cache.get(hashToken(token), action)?.value;
  return { cache, time, put, read };
}

describe('TokenCache', () => {
  it('hashes a token as the sha256 of its UTF-8 bytes, base64url', () => {
    assert.equal(hashToken('abc'), 'ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0');
    assert.equal(hashToken('é€😀'), '35Imkn_VcsHuZu7IXeG7E5SXYUiZ825OkEdMtx9u-dA');
  });

  it('returns what was set for the same token and action', () => {
    const { cache, put, read } = fakeClockCache();
    put(TOKEN, ACTION, ALLOW, T0 + 3_600_000);
    assert.equal(read(TOKEN, ACTION), ALLOW);
    assert.equal(read(TOKEN, '/orders.v1.Orders/DeleteOrder'), undefined);
    assert.equal(cache.size.decisions, 1);
  });

  it('misses for a token whose payload changed but whose signature did not', () => {
    const { put, read } = fakeClockCache();
    put(TOKEN, ACTION, ALLOW, T0 + 3_600_000);
    const [header, , signature] = TOKEN.split('.');
    const tampered = `${header}.eyJzdWIiOiJtYWxsb3J5In0.${signature}`;
    assert.equal(read(tampered, ACTION), undefined);
  });

  it('expires an entry at the token exp, even when maxTtl is longer', () => {
    const { cache, time, put, read } = fakeClockCache({ maxTtlMs: 3_600_000 });
    put(TOKEN, ACTION, ALLOW, T0 + 10_000);
    time.now = T0 + 9_999;
    assert.equal(read(TOKEN, ACTION), ALLOW);
    time.now = T0 + 10_000;
    assert.equal(read(TOKEN, ACTION), undefined);
    assert.equal(cache.size.decisions, 0);
    assert.equal(cache.size.tokens, 0);
  });

  it('expires an entry after maxTtl when the token lives longer', () => {
    const { time, put, read } = fakeClockCache({ maxTtlMs: 5_000 });
    put(TOKEN, ACTION, ALLOW, T0 + 3_600_000);
    time.now = T0 + 4_999;
    assert.equal(read(TOKEN, ACTION), ALLOW);
    time.now = T0 + 5_000;
    assert.equal(read(TOKEN, ACTION), undefined);
  });

  it('never keeps an answer past its principal’s exp, whatever expiry it was given', () => {
    const { cache, time } = fakeClockCache({ maxTtlMs: 3_600_000 });
    const hash = hashToken(TOKEN);
    cache.set(hash, ACTION, ALLOW, principal('alice', T0 + 10_000), T0 + 3_600_000, TOKEN.length);
    assert.equal(cache.get(hash, ACTION)?.expiresAtMs, T0 + 10_000);
    time.now = T0 + 10_000;
    assert.equal(cache.get(hash, ACTION), undefined);
  });

  it('works with a clock that starts at 0', () => {
    const { time, put, read } = fakeClockCache();
    time.now = 0;
    put(TOKEN, ACTION, ALLOW, 1_000);
    assert.equal(read(TOKEN, ACTION), ALLOW);
    time.now = 1_000;
    assert.equal(read(TOKEN, ACTION), undefined);
  });

  it('caches nothing for an expired token', () => {
    const { cache, put } = fakeClockCache();
    put(TOKEN, ACTION, ALLOW, T0);
    put(TOKEN, 'b', ALLOW, T0 - 1);
    put(TOKEN, 'c', ALLOW, Number.NaN);
    cache.setVerified(hashToken(TOKEN), principal('alice', T0), TOKEN.length);
    assert.equal(cache.size.decisions, 0);
    assert.equal(cache.size.tokens, 0);
  });

  it('caches nothing when maxTtl, maxEntries or maxBytes is 0', () => {
    for (const options of [{ maxTtlMs: 0 }, { maxEntries: 0 }, { maxBytes: 0 }]) {
      const { cache, put, read } = fakeClockCache(options);
      put(TOKEN, ACTION, ALLOW, T0 + 3_600_000);
      cache.setVerified(hashToken(TOKEN), principal('alice'), TOKEN.length);
      assert.equal(read(TOKEN, ACTION), undefined);
      assert.equal(cache.verified(hashToken(TOKEN)), undefined);
      assert.equal(cache.size.decisions, 0);
      assert.equal(cache.enabled, false);
    }
  });

  it('stays within maxEntries, evicting the least recently used', () => {
    const { cache, put, read } = fakeClockCache({ maxEntries: 3 });
    for (let i = 0; i < 10; i++) put(TOKEN, `a${i}`, answer(`v${i}`), T0 + 60_000);
    assert.equal(cache.size.decisions, 3);
    assert.equal(read(TOKEN, 'a0'), undefined);
    assert.deepEqual(read(TOKEN, 'a9'), answer('v9'));
  });

  it('maxEntries bounds tokens too, verified ones without answers included', () => {
    const { cache } = fakeClockCache({ maxEntries: 3 });
    for (let i = 0; i < 10; i++) cache.setVerified(hashToken(`token-${i}`), principal(`user-${i}`), 100);
    assert.equal(cache.size.tokens, 3);
    assert.equal(cache.verified(hashToken('token-0')), undefined);
    assert.equal(cache.verified(hashToken('token-9'))?.subject, 'user-9');
  });

  it('forgets everything on clear()', () => {
    const { cache, put, read } = fakeClockCache();
    put(TOKEN, ACTION, ALLOW, T0 + 60_000);
    cache.setVerified(hashToken(TOKEN), principal('alice'), TOKEN.length);
    cache.clear();
    assert.deepEqual(cache.size, { decisions: 0, tokens: 0, bytes: 0 });
    assert.equal(read(TOKEN, ACTION), undefined);
    assert.equal(cache.verified(hashToken(TOKEN)), undefined);
  });

  it('a token hashed once reaches the same entries for every action', () => {
    const { cache, put, read } = fakeClockCache();
    const hash = hashToken(TOKEN);
    cache.set(hash, ACTION, ALLOW, undefined, T0 + 60_000, TOKEN.length);
    assert.equal(read(TOKEN, ACTION), ALLOW);
    put(TOKEN, 'other', DENY, T0 + 60_000);
    assert.equal(cache.get(hash, 'other')?.value, DENY);
    assert.equal(cache.size.tokens, 1);
  });

  it('hashes the whole token and never keeps it', () => {
    assert.notEqual(hashToken(TOKEN), hashToken(`${TOKEN}x`));
    assert.equal(hashToken(TOKEN).includes(TOKEN), false);
    assert.match(hashToken(TOKEN), /^[A-Za-z0-9_-]{43}$/);
  });

  it('bounds memory by the estimated bytes of its entries, not only their count', () => {
    // An estimate that counts a record as its token's length and an answer as nothing: sizes the test chooses.
    const estimate = { record: (tokenLength: number) => tokenLength, answer: () => 0 };
    const { cache, put, read } = fakeClockCache({ maxEntries: 1000, maxBytes: 10_000, estimate });
    for (let i = 0; i < 50; i++) put(`token-${i}`, ACTION, ALLOW, T0 + 60_000, 3_000);
    assert.ok(cache.size.bytes <= 10_000, `holds ${cache.size.bytes} bytes`);
    assert.equal(cache.size.tokens, 3);
    assert.equal(read('token-49', ACTION), ALLOW, 'the most recent entries stay');
    assert.equal(read('token-0', ACTION), undefined);
    put('huge', ACTION, ALLOW, T0 + 60_000, 20_000);
    assert.equal(read('huge', ACTION), undefined, 'an entry over the whole bound is not cached');
  });

  it('holds one principal per token, counted once in bytes, shared by its answers', () => {
    const { cache } = fakeClockCache({ maxBytes: 1_000_000 });
    const hash = hashToken(TOKEN);
    const held = cache.setVerified(hash, principal('alice'), TOKEN.length);
    const verifiedOnly = cache.size.bytes;
    assert.equal(cache.set(hash, 'a', ALLOW, principal('alice'), T0 + 60_000, TOKEN.length), held, 'the same principal, the held object');
    assert.equal(cache.set(hash, 'b', DENY, principal('alice'), T0 + 60_000, TOKEN.length), held);
    assert.equal(cache.get(hash, 'b')?.principal, held);
    assert.ok(cache.size.bytes - verifiedOnly < 1000, `two answers cost ${cache.size.bytes - verifiedOnly} bytes, not two more principals`);
    assert.deepEqual([cache.size.tokens, cache.size.decisions], [1, 2]);

    // Described anew (another issuer id): the older answers go with the older principal.
    const renamed = { ...principal('alice'), issuerId: 'example-2' };
    assert.equal(cache.set(hash, 'c', ALLOW, renamed, T0 + 60_000, TOKEN.length), renamed);
    assert.equal(cache.get(hash, 'a'), undefined);
    assert.equal(cache.size.decisions, 1);
  });

  it('a verified token is served until its exp or maxTtl, whichever is first; clearAnswers keeps it, clear does not', () => {
    const { cache, time } = fakeClockCache({ maxTtlMs: 60_000 });
    const hash = hashToken(TOKEN);
    cache.setVerified(hash, principal('alice'), TOKEN.length);
    cache.set(hash, ACTION, ALLOW, principal('alice'), T0 + 60_000, TOKEN.length);
    cache.setVerified(hashToken('short'), principal('bob', T0 + 10_000), 5);
    cache.set(hashToken('unverified'), ACTION, ALLOW, undefined, T0 + 60_000, 10);

    cache.clearAnswers();
    assert.equal(cache.get(hash, ACTION), undefined);
    assert.equal(cache.verified(hash)?.subject, 'alice');
    assert.deepEqual([cache.size.tokens, cache.size.decisions], [2, 0], 'a token with answers only leaves with them');

    time.now = T0 + 10_000;
    assert.equal(cache.verified(hashToken('short')), undefined, 'at the token’s exp');
    assert.equal(cache.verified(hash)?.subject, 'alice');
    time.now = T0 + 60_000;
    assert.equal(cache.verified(hash), undefined, 'at maxTtl');
  });

  it('refuses nonsense options', () => {
    assert.throws(() => new TokenCache({ maxEntries: -1, maxTtlMs: 1 }), /maxEntries/);
    assert.throws(() => new TokenCache({ maxEntries: 1.5, maxTtlMs: 1 }), /maxEntries/);
    assert.throws(() => new TokenCache({ maxEntries: 1, maxTtlMs: Number.POSITIVE_INFINITY }), /maxTtlMs/);
    assert.throws(() => new TokenCache({ maxEntries: 1, maxBytes: -1 }), /maxBytes/);
  });
});
