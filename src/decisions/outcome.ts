/**
 * What gatehouse concluded about one call, independent of the front door it came through (gRPC Authorize,
 * later Envoy ext_authz or nginx auth_request). A value: an empty or partial outcome never means allowed.
 */
import type { Principal } from '../contract/principal.js';
import type { Reason, TokenReason } from '../contract/reasons.js';

export type VerifyOutcome =
  | { readonly valid: true; readonly principal: Principal; /** Served from the verified-token cache. */ readonly cached: boolean }
  | {
      readonly valid: false;
      readonly reason: TokenReason;
      readonly message: string;
      readonly detail?: string;
      /** The configured issuer the token was routed to before it was refused, if any. */
      readonly issuerId?: string;
    };

export interface AuthorizeOutcome {
  readonly allowed: boolean;
  /** Present whenever the token verified (also for policy denials). */
  readonly principal: Principal | undefined;
  /** The configured issuer of the token ('' when it was not identified): the principal's, or the refused token's. */
  readonly issuerId: string;
  /** Absent when allowed. */
  readonly reason: Reason | undefined;
  readonly message: string;
  /** The id of the rule that decided; '' when none did. */
  readonly rule: string;
  /** How long a caller may reuse this outcome, in ms: 0 for token failures. */
  readonly cacheForMs: number;
  /** Served from the decision cache. */
  readonly cached: boolean;
  /** Operator-only detail (logs), never sent to callers. */
  readonly detail?: string;
}
