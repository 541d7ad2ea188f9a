/**
 * authorize(policy, principal, action, context) → Decision. Pure: no I/O, no clock (the caller passes the time), no
 * logging.
 *
 * The first rule (in config order) with a pattern matching the action decides; no match is a deny.
 * A non-public rule's requirements must all hold and are checked in a fixed order, so the reason
 * given is stable: issuer, app-only/delegated, "token has neither scp nor roles", roles, scopes,
 * groups, the `when` condition, session age (max_age), auth context (a new sign-in or a step-up only helps a caller
 * who may call at all). Matching is exact and case-sensitive (`Admin` never matches `Admin.Read` or `admin`).
 * An allowed call allocates nothing: the allow decision is built once per rule at compile time.
 */
import type { Principal } from '../contract/principal.js';
import type { CompiledPolicy, CompiledRule } from './compile-rules.js';
import type { AuthzReason } from '../contract/reasons.js';
import { deny, type Allowed, type Decision, type Denied } from './decision.js';
import { isHttpAction, refuseNonCanonical } from './http-action.js';
import { checkCondition, evaluateCondition, type DecisionContext } from './condition-check.js';
import { checkAuthContext, describeAcrs } from './auth-context.js';
import { checkSessionAge, describeSession, sessionDeadlineMs } from './session-age.js';

export type { DecisionContext };

/**
 * Decides whether `principal` may perform `action`. `principal` is undefined when no token came. `context` gives a
 * `when` condition its facts, and the rules the time (`nowMs`): without it, a rule with a condition or a max_age
 * denies.
 */
export function authorize(policy: CompiledPolicy, principal: Principal | undefined, action: string, context?: DecisionContext): Decision {
  const refused = refuseAction(action);
  if (refused) return refused;
  const rule = policy.rules[policy.index.firstMatch(action)];
  if (!rule) return deny('NO_MATCHING_RULE', `no rule allows ${action}`);
  return evaluateRule(policy, rule, principal, action, context);
}

/** The rule that decides `action` (its condition says what a decision depends on), or undefined. */
export function decidingRule(policy: CompiledPolicy, action: string): CompiledRule | undefined {
  return policy.rules[policy.index.firstMatch(action)];
}

/**
 * Until when (ms since the epoch) `decision`, made for `principal`, stays the answer {@link authorize} gives, as
 * far as the rules know: for a decision of a rule with a max_age, the instant the session turns too old; else
 * Infinity (the token's exp and the cache's own bound still apply). A SESSION_TOO_OLD denial only gets truer.
 */
export function decisionValidUntilMs(policy: CompiledPolicy, decision: Decision, principal: Principal | undefined): number {
  if (!principal || (!decision.allowed && decision.reason === 'SESSION_TOO_OLD')) return Infinity;
  const rule = policy.rules.find((r) => r.id === decision.rule);
  return rule ? sessionDeadlineMs(policy, rule, principal) : Infinity;
}

/**
 * The allow of the rule that decides `action` when that rule is public (it needs no token, so callers answer
 * before verifying anything), else undefined. The one place that decides whether a call needs a token.
 */
export function publicAllow(policy: CompiledPolicy, action: string): Allowed | undefined {
  const rule = policy.rules[policy.index.firstMatch(action)];
  return rule?.public ? rule.allowed : undefined;
}

/**
 * The refusal of an action no rule may ever see: an HTTP request whose path is not canonical (it is refused, never
 * matched, so `/orders/..%2fadmin` cannot reach a rule for `/orders/*`). Undefined for every other action.
 */
export function refuseAction(action: string): Denied | undefined {
  if (!isHttpAction(action)) return undefined;
  const why = refuseNonCanonical(action);
  return why ? deny('PATH_NOT_CANONICAL', `${why}; such a request is refused, never matched against the rules`) : undefined;
}

/** What is decided before any token is looked at: a refused action ({@link refuseAction}), or a public rule's allow. */
export function decideWithoutToken(policy: CompiledPolicy, action: string): Decision | undefined {
  return refuseAction(action) ?? publicAllow(policy, action);
}

/** One step of {@link explain}: a rule, whether its patterns matched, and why. */
export interface ExplainStep {
  readonly rule: string;
  readonly matched: boolean;
  /** Set on the one rule that decided. */
  readonly decided?: Decision;
  readonly why: string;
  /** On the deciding rule with a `when`: its value, why it could not be evaluated, or why it was not reached. */
  readonly condition?: string;
  /** For the deciding rule: the session age against max_age, the acrs found against auth_contexts. */
  readonly details?: readonly string[];
}

/**
 * Every rule in order, with whether it matched `action` and why, for `gatehouse authorize`.
 * The deciding step's `decided` is exactly what {@link authorize} returns; when no rule matched,
 * no step has `decided` and authorize returns NO_MATCHING_RULE.
 */
export function explain(
  policy: CompiledPolicy,
  principal: Principal | undefined,
  action: string,
  context?: DecisionContext,
): ExplainStep[] {
  let decidedBy: CompiledRule | undefined;
  return policy.rules.map((rule): ExplainStep => {
    const hit = rule.patterns.find((p) => p.matches(action));
    if (decidedBy) {
      const also = hit ? ` (its pattern "${hit.source}" would match)` : '';
      return { rule: rule.id, matched: hit !== undefined, why: `not reached: rule ${decidedBy.id} decided first${also}` };
    }
    if (!hit) return { rule: rule.id, matched: false, why: `no pattern matches (${rule.patterns.map((p) => p.source).join(', ')})` };
    decidedBy = rule;
    const decided = evaluateRule(policy, rule, principal, action, context);
    const outcome = !decided.allowed
      ? `denied ${decided.reason}: ${decided.message}`
      : decided.public
        ? 'allowed: public rule, no token needed'
        : 'allowed: every requirement holds';
    const why = `first rule to match, by "${hit.source}"; ${outcome}`;
    const condition = rule.condition ? explainCondition(rule, principal, action, context, decided) : undefined;
    const session = context === undefined ? undefined : describeSession(rule, principal, context.nowMs);
    const acrs = describeAcrs(rule, principal);
    const details = [...(session ? [`session: ${session}`] : []), ...(acrs ? [acrs] : [])];
    return {
      rule: rule.id,
      matched: true,
      decided,
      why,
      ...(condition ? { condition } : {}),
      ...(details.length > 0 ? { details } : {}),
    };
  });
}

function explainCondition(
  rule: CompiledRule,
  principal: Principal | undefined,
  action: string,
  context: DecisionContext | undefined,
  decided: Decision,
): string {
  const source = `when ${rule.condition?.source ?? ''}`;
  const before = decided.allowed || decided.reason === 'CONDITION_NOT_MET';
  if (!principal || !before) return `${source}: not evaluated (an earlier requirement did not hold)`;
  const result = evaluateCondition(rule, principal, action, context);
  if (!result) return source;
  return 'error' in result ? `${source}: could not be evaluated: ${result.error}` : `${source}: ${String(result.value)}`;
}

function evaluateRule(
  policy: CompiledPolicy,
  rule: CompiledRule,
  principal: Principal | undefined,
  action: string,
  context: DecisionContext | undefined,
): Decision {
  if (rule.public) return rule.allowed;
  // The caller refuses a missing or bad token before asking; fail closed anyway.
  if (!principal) return deny(reasonWithoutToken(rule), 'requires a verified token; none was given', rule.id);

  if (rule.issuers && !rule.issuers.has(principal.issuerId)) {
    return deny(
      'ISSUER_NOT_ALLOWED_FOR_ACTION',
      `requires a token from issuer ${list(rule.issuers)}; token is from ${principal.issuerId}`,
      rule.id,
    );
  }
  if (rule.appOnly === true && !principal.appOnly) {
    return deny('APP_ONLY_REQUIRED', 'requires an application (app-only) token; token is delegated (on behalf of a user)', rule.id);
  }
  if (rule.appOnly === false && principal.appOnly) {
    return deny('DELEGATED_REQUIRED', 'requires a delegated token (on behalf of a user); token is app-only', rule.id);
  }
  return (
    checkRolesAndScopes(rule, principal) ??
    checkGroups(policy, rule, principal) ??
    checkCondition(rule, principal, action, context) ??
    checkSessionAge(policy, rule, principal, context?.nowMs) ??
    checkAuthContext(rule, principal) ??
    rule.allowed
  );
}

function checkRolesAndScopes(rule: CompiledRule, p: Principal): Decision | undefined {
  const needsScopes = rule.anyScopes !== undefined || rule.allScopes !== undefined;
  const needsRoles = rule.anyRoles !== undefined || rule.allRoles !== undefined;
  // Entra's web API library refuses such a token outright: it was not issued for an API at all.
  if ((needsRoles || needsScopes) && p.roles.length === 0 && p.scopes.length === 0) {
    const reason = needsScopes ? 'MISSING_SCOPE' : 'MISSING_ROLE';
    return deny(reason, `requires ${needsScopes ? 'scopes' : 'roles'}; the token carries neither scp nor roles`, rule.id);
  }
  return (
    requireSet(rule, 'MISSING_ROLE', 'one of roles', rule.anyRoles, p.roles, hasAny) ??
    requireSet(rule, 'MISSING_ROLE', 'all roles', rule.allRoles, p.roles, hasAll) ??
    requireSet(rule, 'MISSING_SCOPE', 'one of scopes', rule.anyScopes, p.scopes, hasAny) ??
    requireSet(rule, 'MISSING_SCOPE', 'all scopes', rule.allScopes, p.scopes, hasAll)
  );
}

function checkGroups(policy: CompiledPolicy, rule: CompiledRule, p: Principal): Decision | undefined {
  const met = (!rule.anyGroups || hasAny(rule.anyGroups, p.groups)) && (!rule.allGroups || hasAll(rule.allGroups, p.groups));
  if (met) return undefined;
  const names = (ids: Iterable<string>) => [...ids].map((id) => policy.groupNames.get(id) ?? id);
  const required =
    rule.anyGroups && !hasAny(rule.anyGroups, p.groups)
      ? `one of groups ${list(names(rule.anyGroups))}`
      : `all groups ${list(names(rule.allGroups ?? []))}`;
  // With overage the token lists only some groups (or none), so "missing" may be wrong: say so.
  if (p.groupsOverage) {
    return deny(
      'GROUPS_OVERAGE',
      `requires ${required}; the token's group list is incomplete (groups overage): use app roles, or look the groups up in Microsoft Graph`,
      rule.id,
    );
  }
  return deny('MISSING_GROUP', `requires ${required}; token has ${list(names(p.groups))}`, rule.id);
}

/** One any-of or all-of requirement: undefined when met (or absent), else the denial naming both sides. */
function requireSet(
  rule: CompiledRule,
  reason: AuthzReason,
  what: string,
  required: ReadonlySet<string> | undefined,
  held: readonly string[],
  holds: (required: ReadonlySet<string>, held: readonly string[]) => boolean,
): Decision | undefined {
  if (!required || holds(required, held)) return undefined;
  return deny(reason, `requires ${what} ${list(required)}; token has ${list(held)}`, rule.id);
}

function hasAny(required: ReadonlySet<string>, held: readonly string[]): boolean {
  for (const value of held) if (required.has(value)) return true;
  return false;
}

function hasAll(required: ReadonlySet<string>, held: readonly string[]): boolean {
  for (const value of required) if (!held.includes(value)) return false;
  return true;
}

/** Without a principal, name the first requirement the rule would have checked, in check order. */
function reasonWithoutToken(rule: CompiledRule): AuthzReason {
  if (rule.issuers) return 'ISSUER_NOT_ALLOWED_FOR_ACTION';
  if (rule.appOnly === true) return 'APP_ONLY_REQUIRED';
  if (rule.appOnly === false) return 'DELEGATED_REQUIRED';
  if (rule.anyScopes || rule.allScopes) return 'MISSING_SCOPE';
  if (rule.anyGroups || rule.allGroups) return rule.anyRoles || rule.allRoles ? 'MISSING_ROLE' : 'MISSING_GROUP';
  if (rule.anyRoles || rule.allRoles) return 'MISSING_ROLE';
  if (rule.maxAgeSeconds !== undefined) return 'SESSION_TOO_OLD';
  if (rule.authContexts) return 'AUTH_CONTEXT_REQUIRED';
  // Roles, or no requirement but "authenticated": no reason says exactly that, and none may allow.
  return 'MISSING_ROLE';
}

const MAX_LISTED = 10;

/** `[a b c]`, capped so a token with hundreds of groups does not produce a huge message. */
function list(values: Iterable<string>): string {
  const all = [...values];
  const shown = all.slice(0, MAX_LISTED).join(' ');
  return all.length > MAX_LISTED ? `[${shown} … +${all.length - MAX_LISTED} more]` : `[${shown}]`;
}
