/**
 * What kind of refusal a `gatehouse.v1.Reason` is: a problem with the token (the caller must fix its
 * credentials: UNAUTHENTICATED), a refusal by the rules (PERMISSION_DENIED), or gatehouse unable to decide
 * (KEYS_UNAVAILABLE: it cannot fetch signing keys; a new token would not help, so UNAVAILABLE). The Record type
 * makes the list exhaustive: a reason added to the core types fails to compile here until it is placed.
 */
import type { WireReason } from './reasons.js';

export type ReasonKind = 'token' | 'policy' | 'unavailable';

const KIND: Readonly<Record<WireReason, ReasonKind>> = {
  REASON_UNSPECIFIED: 'policy',
  TOKEN_MISSING: 'token',
  TOKEN_MALFORMED: 'token',
  TOKEN_TOO_LARGE: 'token',
  TOKEN_EXPIRED: 'token',
  TOKEN_NOT_YET_VALID: 'token',
  SIGNATURE_INVALID: 'token',
  KEY_NOT_FOUND: 'token',
  ALGORITHM_NOT_ALLOWED: 'token',
  ISSUER_NOT_TRUSTED: 'token',
  AUDIENCE_MISMATCH: 'token',
  TENANT_NOT_ALLOWED: 'token',
  TOKEN_NOT_FOR_THIS_API: 'token',
  CLAIMS_INVALID: 'token',
  KEYS_UNAVAILABLE: 'unavailable',
  TOKEN_REVOKED: 'token',
  NO_MATCHING_RULE: 'policy',
  MISSING_ROLE: 'policy',
  MISSING_SCOPE: 'policy',
  MISSING_GROUP: 'policy',
  GROUPS_OVERAGE: 'policy',
  APP_ONLY_REQUIRED: 'policy',
  DELEGATED_REQUIRED: 'policy',
  ISSUER_NOT_ALLOWED_FOR_ACTION: 'policy',
  PATH_NOT_CANONICAL: 'policy',
  CONDITION_NOT_MET: 'policy',
  // Decided by a rule, yet the remedy is a new sign-in: like an expired token, 401 / UNAUTHENTICATED.
  SESSION_TOO_OLD: 'token',
  // A refusal by the rules (403), unless it carries a claims challenge: see refusalKind.
  AUTH_CONTEXT_REQUIRED: 'policy',
};

/**
 * The kind of one refusal: its reason's, except that a refusal carrying a claims challenge (`Denial.challenge`,
 * AUTH_CONTEXT_REQUIRED for a client that declared `cp1`) is a token problem: the caller gets a new token with the
 * claims asked for, so every door answers 401 / UNAUTHENTICATED with the challenge, as Microsoft's flow expects.
 */
export function refusalKind(reason: string, challenge: string | undefined): ReasonKind {
  return challenge ? 'token' : reasonKind(reason);
}

/** An unknown reason (a newer server) counts as a policy refusal: denied either way. */
export function reasonKind(reason: string): ReasonKind {
  return (KIND as Record<string, ReasonKind>)[reason] ?? 'policy';
}
