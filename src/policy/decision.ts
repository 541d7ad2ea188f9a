/**
 * A decision is a value: allowed, or denied with one stable reason. Callers switch on `reason`,
 * never on `message`; the message says what was missing and is safe to show the caller (it never
 * contains the token).
 */
import type { AuthzReason } from '../contract/reasons.js';

/** The rule `rule` allowed the call; `public` when it needed no token at all. */
export interface Allowed {
  readonly allowed: true;
  readonly rule: string;
  readonly public: boolean;
}

/** The call was refused. `rule` is the id of the rule that decided, or '' when no rule matched. */
export interface Denied {
  readonly allowed: false;
  readonly reason: AuthzReason;
  readonly message: string;
  readonly rule: string;
  /** AUTH_CONTEXT_REQUIRED for a client that handles claims challenges: the context the challenge asks for. */
  readonly challengeFor?: string;
}

export type Decision = Allowed | Denied;

/** An allow for `rule`. Frozen, so one value can be built per rule and shared by every call. */
export function allow(rule: string, isPublic: boolean): Allowed {
  return Object.freeze({ allowed: true, rule, public: isPublic });
}

/** A denial; `rule` is '' when no rule matched. */
export function deny(reason: AuthzReason, message: string, rule = ''): Denied {
  return { allowed: false, reason, message, rule };
}
