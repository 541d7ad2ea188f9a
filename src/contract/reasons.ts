/**
 * THE list of reasons gatehouse refuses for: `gatehouse.v1.Reason` in the proto, name for name
 * (test/contract/reasons.test.ts holds the two together). Every part that names a reason (the verification core,
 * the rules, the engine, the server's wire and the client library) takes it from here.
 */

/** A token was refused (Verify and Authorize). */
export const TokenReasons = [
  'TOKEN_MISSING',
  'TOKEN_MALFORMED',
  'TOKEN_TOO_LARGE',
  'TOKEN_EXPIRED',
  'TOKEN_NOT_YET_VALID',
  'SIGNATURE_INVALID',
  'KEY_NOT_FOUND',
  'ALGORITHM_NOT_ALLOWED',
  'ISSUER_NOT_TRUSTED',
  'AUDIENCE_MISMATCH',
  'TENANT_NOT_ALLOWED',
  'TOKEN_NOT_FOR_THIS_API',
  'CLAIMS_INVALID',
  'KEYS_UNAVAILABLE',
  'TOKEN_REVOKED',
] as const;

/** The rules refused a call (Authorize only). */
export const AuthzReasons = [
  'NO_MATCHING_RULE',
  'MISSING_ROLE',
  'MISSING_SCOPE',
  'MISSING_GROUP',
  'GROUPS_OVERAGE',
  'APP_ONLY_REQUIRED',
  'DELEGATED_REQUIRED',
  'ISSUER_NOT_ALLOWED_FOR_ACTION',
  'PATH_NOT_CANONICAL',
  'CONDITION_NOT_MET',
  'SESSION_TOO_OLD',
  'AUTH_CONTEXT_REQUIRED',
] as const;

export type TokenReason = (typeof TokenReasons)[number];
export type AuthzReason = (typeof AuthzReasons)[number];

/** Why a token or a call was refused. */
export type Reason = TokenReason | AuthzReason;

/** A reason as the wire carries it: also the enum's zero value, which an empty or older message decodes to. */
export type WireReason = 'REASON_UNSPECIFIED' | Reason;
