/**
 * The values the client hands back: who a token speaks for, and what gatehouse decided. A decision is a
 * value, never an exception; only a failed call to gatehouse throws. `allowed` is true only when gatehouse
 * said so: an empty or partial response is a denial.
 */
import type { AuthorizeResponse, VerifyResponse } from '../contract/messages.js';
import type { WireReason } from '../contract/reasons.js';
import { reasonKind, refusalKind, type ReasonKind } from '../contract/reason-kind.js';
import { msFromDuration } from '../contract/wire-duration.js';
import { principalFromWire } from '../contract/wire-principal.js';
import type { Principal } from '../contract/principal.js';

export type { ReasonKind };

/** Who a verified token speaks for (gatehouse.v1.Principal): the same type the server builds. */
export type { Principal };

interface DecisionBase {
  /** The id of the rule that decided; '' when none did. */
  readonly rule: string;
  /** Absent for a public rule (no token needed) and for token refusals. */
  readonly principal: Principal | undefined;
  /** How long gatehouse said this decision may be reused (`cache_for`), in ms. */
  readonly cacheForMs: number;
  /** Served from this client's local cache, without a call to gatehouse. */
  readonly cached: boolean;
}

export interface Allowed extends DecisionBase {
  readonly allowed: true;
}

export interface Denied extends DecisionBase {
  readonly allowed: false;
  readonly reason: WireReason;
  /**
   * `token`: UNAUTHENTICATED; `policy`: PERMISSION_DENIED; `unavailable`: gatehouse could not decide. A denial with
   * a `challenge` is `token`: the caller must come back with a new token.
   */
  readonly kind: ReasonKind;
  /** Safe to show the caller; never contains the token. */
  readonly message: string;
  /**
   * A `WWW-Authenticate` value to hand the caller, when gatehouse sent one: for AUTH_CONTEXT_REQUIRED, Microsoft's
   * claims challenge (`Bearer realm="", authorization_uri="…", error="insufficient_claims", claims="<base64>"`).
   */
  readonly challenge?: string;
}

export type Decision = Allowed | Denied;

export type VerifyResult =
  | { readonly valid: true; readonly principal: Principal }
  | { readonly valid: false; readonly reason: WireReason; readonly kind: ReasonKind; readonly message: string };

export function decisionFromWire(response: AuthorizeResponse): Decision {
  const principal = response.principal ? principalFromWire(response.principal) : undefined;
  const cacheForMs = msFromDuration(response.cacheFor);
  const base = { rule: response.rule ?? '', principal, cacheForMs, cached: false };
  // Strictly true: a missing field decodes as false, and anything else is not an allow.
  if (response.allowed === true) return { ...base, allowed: true };
  const reason = response.denial?.reason ?? 'REASON_UNSPECIFIED';
  const challenge = response.denial?.challenge || undefined;
  return {
    ...base,
    allowed: false,
    reason,
    kind: refusalKind(reason, challenge),
    message: response.denial?.message || 'denied by gatehouse',
    ...(challenge ? { challenge } : {}),
  };
}

export function verifyResultFromWire(response: VerifyResponse): VerifyResult {
  if (response.valid === true && response.principal) return { valid: true, principal: principalFromWire(response.principal) };
  const reason = response.denial?.reason ?? 'REASON_UNSPECIFIED';
  return { valid: false, reason, kind: reasonKind(reason), message: response.denial?.message || 'token refused by gatehouse' };
}
