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
};

/** An unknown reason (a newer server) counts as a policy refusal: denied either way. */
export function reasonKind(reason: string): ReasonKind {
  return (KIND as Record<string, ReasonKind>)[reason] ?? 'policy';
}
