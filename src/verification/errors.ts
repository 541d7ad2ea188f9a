/**
 * Coded verification errors. Every way a token can be refused has one stable code and one Reason;
 * tests and callers switch on `code`/`reason`, never on message text. Messages are safe to show a
 * caller: they explain what to fix and never contain the token. The reasons themselves are listed in contract/.
 */
import type { TokenReason } from '../contract/reasons.js';

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
