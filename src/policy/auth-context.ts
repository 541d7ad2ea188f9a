/**
 * Entra step-up (`auth_contexts`): Conditional Access authentication context. The token's `acrs` claim must list one
 * of the rule's contexts. Entra sends `acrs` as an array of strings; anything else (a string, say) is treated as no
 * `acrs` at all, so a hand-made or odd token cannot satisfy the rule by shape. A client that declared it handles
 * claims challenges (`xms_cc` containing `cp1`) is sent one; for others the denial only names the context.
 */
import type { Principal } from '../contract/principal.js';
import type { CompiledRule } from './compile-rules.js';
import { deny, type Denied } from './decision.js';

/** The token's `acrs` when it is an array of strings, else undefined. */
export function acrsOf(claims: Readonly<Record<string, unknown>>): readonly string[] | undefined {
  const acrs = claims.acrs;
  return Array.isArray(acrs) && acrs.every((v) => typeof v === 'string') ? (acrs as string[]) : undefined;
}

/** The client declared the `cp1` capability (it can take a claims challenge back to Entra). */
export function handlesClaimsChallenges(claims: Readonly<Record<string, unknown>>): boolean {
  const cc = claims.xms_cc;
  return Array.isArray(cc) ? cc.includes('cp1') : cc === 'cp1';
}

/** AUTH_CONTEXT_REQUIRED when `rule` requires contexts the token's `acrs` lacks; else undefined. */
export function checkAuthContext(rule: CompiledRule, principal: Principal): Denied | undefined {
  const required = rule.authContexts;
  if (!required) return undefined;
  const acrs = acrsOf(principal.claims);
  if (acrs?.some((c) => required.includes(c))) return undefined;
  const has = acrs ? `the token's acrs is [${acrs.join(' ')}]` : 'the token has no acrs (an array of strings)';
  const want = `requires authentication context ${required.length === 1 ? required[0] : `one of [${required.join(' ')}]`}`;
  const capable = handlesClaimsChallenges(principal.claims);
  const next = capable
    ? 'the challenge says how to step up'
    : `step up through Entra with claims {"access_token":{"acrs":{"essential":true,"value":"${required[0]}"}}} (the client did not declare xms_cc cp1, so no challenge is sent)`;
  const denied = deny('AUTH_CONTEXT_REQUIRED', `${want}; ${has}; ${next}`, rule.id);
  return capable ? { ...denied, challengeFor: required[0]! } : denied;
}

/**
 * Microsoft's claims challenge (learn.microsoft.com/entra/identity-platform/claims-challenge): a `WWW-Authenticate`
 * value naming the authorize endpoint and, base64 encoded, the claims request asking for `authContext`.
 */
export function claimsChallenge(authorizationUri: string, authContext: string): string {
  const claims = Buffer.from(JSON.stringify({ access_token: { acrs: { essential: true, value: authContext } } }), 'utf8').toString(
    'base64',
  );
  return `Bearer realm="", authorization_uri="${authorizationUri}", error="insufficient_claims", claims="${claims}"`;
}

/** For `gatehouse explain`: the acrs found against the rule's auth_contexts, or undefined when it requires none. */
export function describeAcrs(rule: CompiledRule, principal: Principal | undefined): string | undefined {
  if (!rule.authContexts || !principal) return undefined;
  const acrs = acrsOf(principal.claims);
  const raw = principal.claims.acrs;
  const found = acrs
    ? `[${acrs.join(' ')}]`
    : raw === undefined
      ? 'none'
      : `${JSON.stringify(raw)} (not an array of strings: treated as none)`;
  const cp1 = handlesClaimsChallenges(principal.claims) ? 'client handles claims challenges (cp1)' : 'client did not declare cp1';
  return `acrs ${found} against auth_contexts [${rule.authContexts.join(' ')}]; ${cp1}`;
}
