/**
 * Coded verification errors. Every way a token can be refused has one stable code and one Reason;
 * tests and callers switch on `code`/`reason`, never on message text. Messages are safe to show a
 * caller: they explain what to fix and never contain the token.
 */

/** Why a token or a call was refused. Mirrors `gatehouse.v1.Reason` in the proto, name for name. */
export const Reasons = [
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
] as const;

export type TokenReason = (typeof Reasons)[number];

/** A token was refused. `reason` is the stable code; `message` is safe for the caller. */
export class TokenError extends Error {
  override readonly name = 'TokenError';
  constructor(
    readonly reason: TokenReason,
    message: string,
    /** Detail for operators only (logs), never sent to the caller. */
    readonly detail?: string,
  ) {
    super(message);
  }

  /** The configured issuer the token was routed to, when it got that far. */
  issuerId: string | undefined;
}

export function isTokenError(err: unknown): err is TokenError {
  return err instanceof TokenError;
}
