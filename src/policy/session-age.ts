/**
 * Fresh sessions (`max_age`): a token is accepted only within that long of the user's sign-in, `auth_time` when the
 * token carries it, else `iat`, with the configured clock skew. Pure: the caller passes the time. A token that does
 * not say when its session began (no such claim, or not a number) is refused whenever a max_age is in force: a
 * missing claim must never read as "fresh".
 */
import type { Principal } from '../contract/principal.js';
import type { CompiledPolicy, CompiledRule } from './compile-rules.js';
import { deny, type Denied } from './decision.js';

/** When the session began, in epoch seconds, and which claim said so. */
export interface SessionStart {
  readonly at: number;
  readonly claim: 'auth_time' | 'iat';
}

/**
 * `auth_time` when present, else `iat`; undefined when the one that decides is not a finite number (a string
 * `auth_time` does not fall back to `iat`: a token saying something odd about its sign-in is not trusted on it).
 */
export function sessionStart(claims: Readonly<Record<string, unknown>>): SessionStart | undefined {
  const claim = claims.auth_time !== undefined ? 'auth_time' : 'iat';
  const at = claims[claim];
  if (typeof at !== 'number' || !Number.isFinite(at)) return undefined;
  // A sign-in after the token was issued cannot be (the verifier holds iat to the clock): not trusted on it either.
  if (claim === 'auth_time' && typeof claims.iat === 'number' && at > claims.iat + AUTH_TIME_AFTER_IAT_SLACK_SECONDS) {
    return undefined;
  }
  return { at, claim };
}

/** An issuer's clocks may disagree by a little between stamping auth_time and iat; never by more. */
const AUTH_TIME_AFTER_IAT_SLACK_SECONDS = 60;

/**
 * The instant (ms since the epoch) from which the session is too old for `rule`: sign-in + max_age + clock skew.
 * Infinity when the rule has no max_age; -Infinity when it has one and the token does not say when it signed in.
 */
export function sessionDeadlineMs(policy: CompiledPolicy, rule: CompiledRule, principal: Principal): number {
  if (rule.maxAgeSeconds === undefined) return Infinity;
  const start = sessionStart(principal.claims);
  if (!start) return -Infinity;
  return (start.at + rule.maxAgeSeconds + policy.clockSkewSeconds) * 1000;
}

/** SESSION_TOO_OLD when `rule` has a max_age the session no longer meets at `nowMs` (or cannot be told); else undefined. */
export function checkSessionAge(
  policy: CompiledPolicy,
  rule: CompiledRule,
  principal: Principal,
  nowMs: number | undefined,
): Denied | undefined {
  if (rule.maxAgeSeconds === undefined) return undefined;
  const limit = `this rule accepts sessions up to ${formatSeconds(rule.maxAgeSeconds)} old (max_age)`;
  const start = sessionStart(principal.claims);
  if (!start) {
    return deny('SESSION_TOO_OLD', `${limit}, and the token does not say when the user signed in (no numeric auth_time or iat)`, rule.id);
  }
  // A sign-in in the future (a token without iat that says so) proves nothing about freshness.
  if (nowMs !== undefined && start.at * 1000 > nowMs + policy.clockSkewSeconds * 1000) {
    return deny('SESSION_TOO_OLD', `${limit}, and the token says the user signs in in the future (${start.claim})`, rule.id);
  }
  // Without a time (a caller that passed none) nothing can be judged fresh.
  if (nowMs === undefined || !(nowMs < sessionDeadlineMs(policy, rule, principal))) {
    const age = nowMs === undefined ? 'of unknown age' : `${formatSeconds(ageSeconds(start, nowMs))} old (by ${start.claim})`;
    return deny('SESSION_TOO_OLD', `the session is ${age}; ${limit}: sign in again`, rule.id);
  }
  return undefined;
}

/** For `gatehouse explain`: the session's age against the rule's max_age, or undefined when the rule has none. */
export function describeSession(rule: CompiledRule, principal: Principal | undefined, nowMs: number): string | undefined {
  if (rule.maxAgeSeconds === undefined || !principal) return undefined;
  const start = sessionStart(principal.claims);
  const limit = `max_age ${formatSeconds(rule.maxAgeSeconds)}`;
  if (!start) return `unknown age (no numeric auth_time or iat) against ${limit}`;
  return `${formatSeconds(ageSeconds(start, nowMs))} old (by ${start.claim}, signed in ${new Date(start.at * 1000).toISOString()}) against ${limit}`;
}

function ageSeconds(start: SessionStart, nowMs: number): number {
  return Math.max(0, Math.floor(nowMs / 1000 - start.at));
}

/** 90 → "1m30s", 3600 → "1h", 45 → "45s". */
export function formatSeconds(total: number): string {
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = Math.floor(total % 60);
  const text = `${h ? `${h}h` : ''}${m ? `${m}m` : ''}${s ? `${s}s` : ''}`;
  return text || '0s';
}
