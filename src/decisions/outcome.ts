/**
 * What gatehouse concluded about one call, independent of the front door it came through (gRPC Authorize,
 * later Envoy ext_authz or nginx auth_request). A value: an empty or partial outcome never means allowed.
 * Every AuthorizeOutcome is built by {@link authorizeOutcome}.
 */
import type { Principal } from '../contract/principal.js';
import type { Reason, TokenReason } from '../contract/reasons.js';
import type { Decision } from '../policy/decision.js';

export type VerifyOutcome =
  | {
      readonly valid: true;
      readonly principal: Principal;
      /** A token verified before, served from the decision cache. */ readonly cached: boolean;
    }
  | TokenRefusal;

/** A token refused before any rule was evaluated. */
export interface TokenRefusal {
  readonly valid: false;
  readonly reason: TokenReason;
  readonly message: string;
  readonly detail?: string;
  /** The configured issuer the token was routed to before it was refused, if any. */
  readonly issuerId?: string;
}

interface OutcomeBase {
  /** Present whenever the token verified (also for policy denials); absent for a public rule and token refusals. */
  readonly principal: Principal | undefined;
  /** The configured issuer of the token ('' when it was not identified): the principal's, or the refused token's. */
  readonly issuerId: string;
  /** The id of the rule that decided; '' when none did. */
  readonly rule: string;
  /** How long a caller may reuse this outcome, in ms: 0 for token failures. */
  readonly cacheForMs: number;
  /** Served from the decision cache. */
  readonly cached: boolean;
}

export interface AllowedOutcome extends OutcomeBase {
  readonly allowed: true;
}

export interface DeniedOutcome extends OutcomeBase {
  readonly allowed: false;
  readonly reason: Reason;
  /** Safe to show the caller; never contains the token. */
  readonly message: string;
  /** Operator-only detail (logs), never sent to callers. */
  readonly detail?: string;
  /** A `WWW-Authenticate` value for the caller (AUTH_CONTEXT_REQUIRED's claims challenge); absent when none. */
  readonly challenge?: string;
}

export type AuthorizeOutcome = AllowedOutcome | DeniedOutcome;

/**
 * The one place an AuthorizeOutcome is built: from the rules' decision for `principal` (undefined for a public
 * rule, which needs no token), or from the refusal of the token, which decides before any rule. `challenge`: the
 * claims challenge of a denial that asks for one (the engine knows where the issuer's authorize endpoint is).
 */
export function authorizeOutcome(
  decided: Decision | TokenRefusal,
  principal: Principal | undefined,
  cacheForMs: number,
  cached: boolean,
  challenge?: string,
): AuthorizeOutcome {
  if ('valid' in decided) {
    const { reason, message, detail } = decided;
    const refused = { allowed: false, principal: undefined, issuerId: decided.issuerId ?? '', reason, message, rule: '' } as const;
    return { ...refused, cacheForMs: 0, cached: false, ...(detail ? { detail } : {}) };
  }
  const issuerId = principal?.issuerId ?? '';
  if (decided.allowed) return { allowed: true, principal, issuerId, rule: decided.rule, cacheForMs, cached };
  const { reason, message, rule } = decided;
  return { allowed: false, principal, issuerId, reason, message, rule, cacheForMs, cached, ...(challenge ? { challenge } : {}) };
}
