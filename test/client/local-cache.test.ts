// The AuthClient's local decision cache on a fake clock: keys that cannot collide, a bound in estimated bytes
// as well as in decisions, one principal per token shared by its decisions, expiry never past the token's exp.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Decision, Principal } from '../../src/client/index.js';
import { hashToken } from '../../src/contract/token-cache.js';
import { LocalDecisionCache, questionText } from '../../src/client/local-cache.js';

type Attributes = Readonly<Record<string, string>> | undefined;
/** Where the AuthClient looks an answer up: the token's hash and the question. */
const at = (t: string, action: string, attributes: Attributes) => [hashToken(t), questionText(action, attributes)] as const;
/** The two as one text, as the AuthClient keys its questions in flight. */
const cacheKey = (t: string, action: string, attributes: Attributes) => at(t, action, attributes).join('\n');

const NOW = 1_800_000_000_000;

function principal(subject: string, groups = 0): Principal {
  const ids = Array.from({ length: groups }, (_, i) => `${subject}-group-${String(i).padStart(28, '0')}`);
  return {
    issuer: 'https://login.example.com/tenant/v2.0',
    issuerId: 'contoso',
    subject,
    tenantId: 'tenant',
    objectId: subject,
    clientId: 'app',
    roles: ['Orders.Read'],
    scopes: [],
    groups: ids,
    groupsOverage: false,
    appOnly: false,
    expiresAt: NOW / 1000 + 3600,
    tokenVersion: '2.0',
    claims: { sub: subject, groups: [...ids] },
  };
}

const allow = (who: Principal): Decision => ({ allowed: true, rule: 'read', principal: who, cacheForMs: 60_000, cached: false });

/** A token of `length` characters, distinct per `n`. */
const token = (n: number, length = 9000) => `${String(n).padStart(8, '0')}.${'x'.repeat(length - 9)}`;

describe('local decision cache', () => {
  it('the key: an action cannot pose as attributes, attribute order does not matter, no attributes is no attributes', () => {
    const forged = cacheKey('t', '/orders.v1.Orders/Get\n[["tenant","a"]]', undefined);
    const honest = cacheKey('t', '/orders.v1.Orders/Get', { tenant: 'a' });
    assert.notEqual(forged, honest);
    assert.notEqual(cacheKey('t', 'a', { k: 'v,w' }), cacheKey('t', 'a', { 'k,v': 'w' }));
    assert.equal(cacheKey('t', 'a', { x: '1', y: '2' }), cacheKey('t', 'a', { y: '2', x: '1' }));
    assert.equal(cacheKey('t', 'a', {}), cacheKey('t', 'a', undefined));
    assert.equal(cacheKey('t', 'a', null as never), cacheKey('t', 'a', undefined), 'null (from a JavaScript caller) is none');
    assert.notEqual(cacheKey('t', 'a', undefined), cacheKey('u', 'a', undefined));
  });

  it('a question without attributes is written once per action, and the same past the memo’s bound', () => {
    const written = Array.from({ length: 1500 }, (_, i) => questionText(`/svc/M${i}`, undefined));
    written.forEach((text, i) => {
      assert.equal(text, JSON.stringify([`/svc/M${i}`, []]));
      assert.equal(questionText(`/svc/M${i}`, undefined), text);
    });
    assert.equal(questionText('/a"\n', undefined), JSON.stringify(['/a"\n', []]), 'quoted as JSON');
  });

  it('stays under maxBytes with many distinct large tokens, and still serves the recent ones', () => {
    const maxBytes = 200_000;
    const cache = new LocalDecisionCache({ maxEntries: 10_000, maxBytes }, () => NOW);
    for (let n = 0; n < 200; n++) {
      cache.set(...at(token(n), '/a', undefined), allow(principal(`user-${n}`, 150)), token(n).length);
      assert.ok(cache.size.bytes <= maxBytes, `after ${n + 1} tokens: ${cache.size.bytes} estimated bytes`);
    }
    const { tokens, decisions } = cache.size;
    assert.ok(tokens >= 5 && tokens < 10, `${tokens} tokens of ~9,000 characters in 200,000 bytes`);
    assert.equal(decisions, tokens);
    assert.equal(cache.get(...at(token(199), '/a', undefined))?.principal?.subject, 'user-199');
    assert.equal(cache.get(...at(token(200 - tokens), '/a', undefined))?.cached, true, 'the oldest kept');
    assert.equal(cache.get(...at(token(0), '/a', undefined)), undefined, 'least recently used went first');
  });

  it('a token’s decisions share one principal object; they count once in bytes', () => {
    const cache = new LocalDecisionCache({ maxEntries: 10_000, maxBytes: 1_000_000 }, () => NOW);
    const t = token(1);
    // Each answer from gatehouse comes with its own copy of the principal.
    const first = cache.set(...at(t, '/a', undefined), allow(principal('alice', 150)), t.length);
    const oneAction = cache.size.bytes;
    const second = cache.set(...at(t, '/b', undefined), allow(principal('alice', 150)), t.length);
    assert.equal(second.principal, first.principal);
    assert.equal(cache.get(...at(t, '/b', undefined))?.principal, first.principal);
    assert.ok(cache.size.bytes - oneAction < 1000, `a second action costs ${cache.size.bytes - oneAction} bytes, not another principal`);
    assert.deepEqual(cache.size, { decisions: 2, tokens: 1, bytes: cache.size.bytes });
  });

  it('gatehouse describing a token anew replaces its principal and drops the older decisions', () => {
    const cache = new LocalDecisionCache({ maxEntries: 100, maxBytes: 1_000_000 }, () => NOW);
    const t = token(1, 2000);
    cache.set(...at(t, '/a', undefined), allow(principal('alice')), t.length);
    const renamed = { ...principal('alice'), issuerId: 'contoso-2' };
    assert.equal(cache.set(...at(t, '/b', undefined), allow(renamed), t.length).principal, renamed);
    assert.equal(cache.get(...at(t, '/a', undefined)), undefined);
    assert.equal(cache.size.decisions, 1);
  });

  it('maxEntries still bounds decisions; the least recently used token goes first, with its decisions', () => {
    const cache = new LocalDecisionCache({ maxEntries: 3, maxBytes: 1_000_000 }, () => NOW);
    const [a, b, c, d] = [1, 2, 3, 4].map((n) => token(n, 1000)) as [string, string, string, string];
    const put = (t: string, action: string, who: string) => cache.set(...at(t, action, undefined), allow(principal(who)), t.length);
    put(a, '/1', 'a');
    put(b, '/1', 'b');
    put(b, '/2', 'b');
    put(c, '/1', 'c');
    assert.deepEqual([cache.size.decisions, cache.size.tokens], [3, 2]);
    assert.equal(cache.get(...at(a, '/1', undefined)), undefined);
    assert.ok(cache.get(...at(b, '/1', undefined)), 'b is now the most recent');
    put(d, '/1', 'd');
    assert.equal(cache.get(...at(c, '/1', undefined)), undefined);
    assert.ok(cache.get(...at(b, '/2', undefined)) && cache.get(...at(d, '/1', undefined)));
  });

  it('expires at cache_for, never past the token’s exp; expired decisions free their bytes; clear empties it', () => {
    let now = NOW;
    const cache = new LocalDecisionCache({ maxEntries: 100, maxBytes: 1_000_000 }, () => now);
    const t = token(1, 1000);
    const soon = { ...principal('a'), expiresAt: NOW / 1000 + 10 };
    cache.set(...at(t, '/1', undefined), allow(soon), t.length);
    cache.set(...at(t, '/2', undefined), { ...allow(soon), cacheForMs: 5_000 }, t.length);
    const both = cache.size.bytes;
    now += 5_000;
    assert.equal(cache.get(...at(t, '/2', undefined)), undefined);
    assert.ok(cache.size.bytes < both);
    assert.equal(cache.get(...at(t, '/1', undefined))?.cacheForMs, 5_000, 'the token’s exp, not cache_for (60 s)');
    now += 5_000;
    assert.equal(cache.get(...at(t, '/1', undefined)), undefined);
    assert.deepEqual(cache.size, { decisions: 0, tokens: 0, bytes: 0 });

    cache.set(...at(t, '/3', undefined), allow(principal('a')), t.length);
    cache.clear();
    assert.deepEqual(cache.size, { decisions: 0, tokens: 0, bytes: 0 });
    assert.equal(cache.set(...at(t, '/4', undefined), { ...allow(principal('a')), cacheForMs: 0 }, t.length).cached, false);
    assert.equal(cache.size.decisions, 0, 'cache_for 0 is not kept');
  });
});
