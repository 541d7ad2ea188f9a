// Fresh sessions (max_age, tokens.max_age) and Entra auth contexts (auth_contexts), decided by the pure policy.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { RuleConfig } from '../../src/config/schema.js';
import type { Principal } from '../../src/contract/principal.js';
import { authorize, decisionValidUntilMs, explain } from '../../src/policy/authorize.js';
import { claimsChallenge } from '../../src/policy/auth-context.js';
import { compileRules, PolicyError, type PolicyOptions } from '../../src/policy/compile-rules.js';
import type { Decision } from '../../src/policy/decision.js';

const ACTION = '/orders.v1.Orders/Refund';
const NOW_S = 1_800_000_000;
const NOW = NOW_S * 1000;

function principal(claims: Record<string, unknown>): Principal {
  return {
    issuer: 'https://login.microsoftonline.com/tid/v2.0',
    issuerId: 'entra',
    subject: 'sub',
    tenantId: 'tid',
    objectId: 'oid',
    clientId: 'client',
    roles: ['Orders.Refund'],
    scopes: [],
    groups: [],
    groupsOverage: false,
    appOnly: false,
    expiresAt: NOW_S + 3600,
    tokenVersion: '2.0',
    claims,
  };
}

function policyOf(fields: Partial<RuleConfig>, options: PolicyOptions = {}) {
  return compileRules(
    [{ id: 'refund', actions: [ACTION], public: false, any_roles: ['Orders.Refund'], ...fields }],
    {},
    ['entra'],
    options,
  );
}

function decide(fields: Partial<RuleConfig>, claims: Record<string, unknown>, options: PolicyOptions = {}, now = NOW): Decision {
  return authorize(policyOf(fields, options), principal(claims), ACTION, now === undefined ? undefined : { nowMs: now });
}

const reasonOf = (d: Decision) => (d.allowed ? 'ALLOWED' : d.reason);
const TEN_MIN = 600_000;

describe('max_age', () => {
  it('a sign-in stamped after the token was issued, or in the future, proves nothing: SESSION_TOO_OLD', () => {
    assert.equal(reasonOf(decide({ max_age: TEN_MIN }, { iat: NOW_S - 3600, auth_time: NOW_S + 365 * 86400 })), 'SESSION_TOO_OLD');
    assert.equal(reasonOf(decide({ max_age: TEN_MIN }, { auth_time: NOW_S + 365 * 86400 })), 'SESSION_TOO_OLD');
    assert.equal(reasonOf(decide({ max_age: TEN_MIN }, { iat: NOW_S - 30, auth_time: NOW_S - 20 })), 'ALLOWED', 'within the slack');
  });

  it('allows a session younger than max_age and refuses an older one with SESSION_TOO_OLD, saying how old and the limit', () => {
    assert.equal(reasonOf(decide({ max_age: TEN_MIN }, { iat: NOW_S - 599 })), 'ALLOWED');
    const old = decide({ max_age: TEN_MIN }, { iat: NOW_S - 700 });
    assert.equal(reasonOf(old), 'SESSION_TOO_OLD');
    assert.ok(
      !old.allowed && old.message.includes('11m40s old (by iat)') && old.message.includes('up to 10m'),
      !old.allowed ? old.message : '',
    );
    assert.equal(old.rule, 'refund');
  });

  it('counts from auth_time when present, not iat (a refreshed token keeps its old sign-in)', () => {
    const d = decide({ max_age: TEN_MIN }, { iat: NOW_S - 10, auth_time: NOW_S - 3600 });
    assert.equal(reasonOf(d), 'SESSION_TOO_OLD');
    assert.ok(!d.allowed && d.message.includes('1h old (by auth_time)'));
  });

  it('grants the configured clock skew', () => {
    const skew = { clockSkewMs: 60_000 };
    assert.equal(reasonOf(decide({ max_age: TEN_MIN }, { iat: NOW_S - 650 }, skew)), 'ALLOWED');
    assert.equal(reasonOf(decide({ max_age: TEN_MIN }, { iat: NOW_S - 660 }, skew)), 'SESSION_TOO_OLD');
    assert.equal(reasonOf(decide({ max_age: TEN_MIN }, { iat: NOW_S - 650 })), 'SESSION_TOO_OLD');
  });

  it('denies a token that does not say when its session began: no iat, a string iat or auth_time', () => {
    for (const claims of [{}, { iat: String(NOW_S) }, { iat: NOW_S, auth_time: 'yesterday' }, { iat: null }]) {
      const d = decide({ max_age: TEN_MIN }, claims);
      assert.equal(reasonOf(d), 'SESSION_TOO_OLD', JSON.stringify(claims));
    }
  });

  it('denies when no time is given (fail closed)', () => {
    const policy = policyOf({ max_age: TEN_MIN });
    assert.equal(reasonOf(authorize(policy, principal({ iat: NOW_S }), ACTION)), 'SESSION_TOO_OLD');
  });

  it('tokens.max_age applies to every rule; the shorter of it and a rule max_age wins', () => {
    assert.equal(reasonOf(decide({}, { iat: NOW_S - 700 }, { maxAgeMs: TEN_MIN })), 'SESSION_TOO_OLD');
    assert.equal(reasonOf(decide({}, { iat: NOW_S - 500 }, { maxAgeMs: TEN_MIN })), 'ALLOWED');
    assert.equal(reasonOf(decide({ max_age: 3_600_000 }, { iat: NOW_S - 700 }, { maxAgeMs: TEN_MIN })), 'SESSION_TOO_OLD');
    assert.equal(reasonOf(decide({ max_age: 60_000 }, { iat: NOW_S - 70 }, { maxAgeMs: TEN_MIN })), 'SESSION_TOO_OLD');
  });

  it('is checked after roles: a caller without the role hears MISSING_ROLE, not "sign in again"', () => {
    const policy = policyOf({ max_age: TEN_MIN });
    const d = authorize(policy, { ...principal({ iat: 0 }), roles: ['Other'] }, ACTION, { nowMs: NOW });
    assert.equal(reasonOf(d), 'MISSING_ROLE');
  });

  it('says until when an allow holds: the session deadline (sign-in + max_age + skew)', () => {
    const policy = policyOf({ max_age: TEN_MIN }, { clockSkewMs: 60_000 });
    const who = principal({ iat: NOW_S - 100 });
    const d = authorize(policy, who, ACTION, { nowMs: NOW });
    assert.equal(decisionValidUntilMs(policy, d, who), (NOW_S - 100 + 600 + 60) * 1000);
    assert.equal(decisionValidUntilMs(policyOf({}), authorize(policyOf({}), who, ACTION, { nowMs: NOW }), who), Infinity);
  });

  it('a public rule cannot carry max_age or auth_contexts', () => {
    assert.throws(
      () => compileRules([{ id: 'p', actions: ['/a.B/C'], public: true, max_age: TEN_MIN, auth_contexts: ['c1'] }], {}, []),
      (err: unknown) => err instanceof PolicyError && /max_age, auth_contexts/.test(err.message),
    );
  });
});

describe('auth_contexts', () => {
  it('allows a token whose acrs lists one of them', () => {
    assert.equal(reasonOf(decide({ auth_contexts: ['c1', 'c2'] }, { acrs: ['c2'] })), 'ALLOWED');
  });

  it('refuses with AUTH_CONTEXT_REQUIRED naming the context, and asks for a challenge only for a cp1 client', () => {
    const plain = decide({ auth_contexts: ['c1'] }, { acrs: ['c3'] });
    assert.equal(reasonOf(plain), 'AUTH_CONTEXT_REQUIRED');
    assert.ok(!plain.allowed && plain.message.includes('requires authentication context c1') && plain.challengeFor === undefined);
    const capable = decide({ auth_contexts: ['c1'] }, { xms_cc: ['cp1'] });
    assert.ok(!capable.allowed && capable.reason === 'AUTH_CONTEXT_REQUIRED' && capable.challengeFor === 'c1');
  });

  it('treats an acrs that is not an array of strings as absent', () => {
    for (const acrs of ['c1', 'c1 c2', [1], { c1: true }, null]) {
      assert.equal(reasonOf(decide({ auth_contexts: ['c1'] }, { acrs })), 'AUTH_CONTEXT_REQUIRED', JSON.stringify(acrs));
    }
  });

  it("builds Microsoft's claims challenge", () => {
    const challenge = claimsChallenge('https://login.microsoftonline.com/tid/oauth2/v2.0/authorize', 'c1');
    const match = /^Bearer realm="", authorization_uri="([^"]+)", error="insufficient_claims", claims="([^"]+)"$/.exec(challenge);
    assert.ok(match, challenge);
    assert.equal(match[1], 'https://login.microsoftonline.com/tid/oauth2/v2.0/authorize');
    assert.deepEqual(JSON.parse(Buffer.from(match[2]!, 'base64').toString('utf8')), {
      access_token: { acrs: { essential: true, value: 'c1' } },
    });
  });
});

describe('explain shows the session and the acrs of the deciding rule', () => {
  it('session age against max_age, acrs against auth_contexts', () => {
    const policy = policyOf({ max_age: TEN_MIN, auth_contexts: ['c1'] });
    const [step] = explain(policy, principal({ iat: NOW_S - 90, acrs: 'c1' }), ACTION, { nowMs: NOW });
    const details = step?.details?.join('\n') ?? '';
    assert.match(details, /session: 1m30s old \(by iat, signed in .*\) against max_age 10m/);
    assert.match(details, /acrs "c1" \(not an array of strings: treated as none\) against auth_contexts \[c1\]/);
  });
});
