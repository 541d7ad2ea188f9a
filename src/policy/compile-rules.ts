/**
 * Turns the validated `rules` of the config into a policy that `authorize` can evaluate without
 * parsing anything per call: patterns are compiled and indexed, requirements become Sets, group
 * names become object ids. Every mistake is collected, so one reload reports all of them at once.
 */
import type { RuleConfig } from '../config/schema.js';
import { GUID } from '../contract/guid.js';
import { ActionIndex, compilePattern, covers, PatternError, type ActionPattern } from './action-pattern.js';
import { allow, type Allowed } from './decision.js';
import { compileCondition, conditionEnvironment, ConditionError, type CompiledCondition } from './condition.js';
import type { Environment } from '@marcbachmann/cel-js';

/** One rule, ready to evaluate. An absent requirement is `undefined`; a present one is never empty. */
export interface CompiledRule {
  readonly id: string;
  /** Position in the config's `rules`. */
  readonly index: number;
  readonly public: boolean;
  readonly patterns: readonly ActionPattern[];
  /** Configured issuer ids the token must come from. */
  readonly issuers: ReadonlySet<string> | undefined;
  /** true: app-only tokens only; false: delegated (user) tokens only; undefined: either. */
  readonly appOnly: boolean | undefined;
  readonly anyRoles: ReadonlySet<string> | undefined;
  readonly allRoles: ReadonlySet<string> | undefined;
  readonly anyScopes: ReadonlySet<string> | undefined;
  readonly allScopes: ReadonlySet<string> | undefined;
  /** Group object ids (names already resolved through the `groups` map). */
  readonly anyGroups: ReadonlySet<string> | undefined;
  readonly allGroups: ReadonlySet<string> | undefined;
  /** The `when` condition, checked after every other requirement holds. */
  readonly condition: CompiledCondition | undefined;
  /** The shorter of the rule's `max_age` and `tokens.max_age`, in seconds; undefined when neither applies. */
  readonly maxAgeSeconds: number | undefined;
  /** Authentication context ids (`acrs`), any of. */
  readonly authContexts: readonly string[] | undefined;
  /** The allow decision of this rule, built once so an allowed call allocates nothing. */
  readonly allowed: Allowed;
}

/** The rules of one config, compiled. Immutable; a reload builds a new one. */
export interface CompiledPolicy {
  readonly rules: readonly CompiledRule[];
  /** Finds the first rule whose patterns match an action. */
  readonly index: ActionIndex;
  /** Group object id → configured name, so messages can speak in names. */
  readonly groupNames: ReadonlyMap<string, string>;
  /** Some rule has a `when`: only then does a call look for the facts a decision depends on. */
  readonly hasConditions: boolean;
  /** `tokens.clock_skew`, for the session age (`max_age`). */
  readonly clockSkewSeconds: number;
}

/** Settings from outside `rules` that rules obey. */
export interface PolicyOptions {
  /** `tokens.max_age` in ms: every non-public rule's longest session. */
  readonly maxAgeMs?: number | undefined;
  /** `tokens.clock_skew` in ms. */
  readonly clockSkewMs?: number;
}

/** The rules cannot be compiled. `problems` names each bad rule and key, one line each. */
export class PolicyError extends Error {
  override readonly name = 'PolicyError';
  readonly code = 'ERR_POLICY_INVALID';
  constructor(readonly problems: string[]) {
    super(`invalid rules:\n  ${problems.join('\n  ')}`);
  }
}

const REQUIREMENT_KEYS = [
  'issuers',
  'any_roles',
  'all_roles',
  'any_scopes',
  'all_scopes',
  'any_groups',
  'all_groups',
  'max_age',
  'auth_contexts',
] as const;

/**
 * Compiles `rules` (in config order: the first rule whose patterns match decides).
 * `groups` maps group object id → name; rules may name a group by that name or by its raw id.
 * `issuerIds` are the ids of the configured issuers. Throws {@link PolicyError} listing every problem.
 */
export function compileRules(
  rules: readonly RuleConfig[],
  groups: Readonly<Record<string, string>>,
  issuerIds: readonly string[],
  options: PolicyOptions = {},
): CompiledPolicy {
  const problems: string[] = [];
  const groupIds = idsByName(groups);
  const knownIssuers = new Set(issuerIds);
  const firstIndexOfId = new Map<string, number>();
  let env: Environment | undefined;

  const compiled = rules.map((rule, index): CompiledRule => {
    const where = `rules[${index}] (id ${rule.id})`;
    const report = (key: string, why: string) => problems.push(`${where}${key ? `.${key}` : ''}: ${why}`);

    const first = firstIndexOfId.get(rule.id);
    if (first === undefined) firstIndexOfId.set(rule.id, index);
    else report('id', `duplicate rule id (first used by rules[${first}])`);

    const patterns = compilePatterns(rule.actions, report);
    rule.issuers?.forEach((issuer, i) => {
      if (!knownIssuers.has(issuer)) report(`issuers[${i}]`, `unknown issuer id "${issuer}" (known: ${[...knownIssuers].join(', ')})`);
    });
    if (rule.public) checkPublic(rule, report);
    let condition: CompiledCondition | undefined;
    if (rule.when !== undefined) {
      try {
        condition = compileCondition((env ??= conditionEnvironment()), rule.when);
      } catch (err) {
        if (!(err instanceof ConditionError)) throw err;
        report('when', err.message);
      }
    }

    return {
      id: rule.id,
      index,
      public: rule.public,
      patterns,
      issuers: toSet(rule.issuers),
      appOnly: rule.app_only,
      anyRoles: toSet(rule.any_roles),
      allRoles: toSet(rule.all_roles),
      anyScopes: toSet(rule.any_scopes),
      allScopes: toSet(rule.all_scopes),
      anyGroups: resolveGroups(rule.any_groups, groupIds, (i, why) => report(`any_groups[${i}]`, why)),
      allGroups: resolveGroups(rule.all_groups, groupIds, (i, why) => report(`all_groups[${i}]`, why)),
      condition,
      maxAgeSeconds: rule.public ? undefined : shortest(rule.max_age, options.maxAgeMs),
      authContexts: rule.auth_contexts,
      allowed: allow(rule.id, rule.public),
    };
  });

  compiled.forEach((rule, index) => {
    // A rule with a bad pattern is already reported; judging it on its other patterns would mislead.
    if (rule.patterns.length !== rules[index]?.actions.length) return;
    const shadow = shadowingRule(compiled, index);
    if (shadow) problems.push(`rules[${index}] (id ${rule.id}).actions: unreachable: ${shadow}`);
  });

  if (problems.length > 0) throw new PolicyError(problems);
  return {
    rules: compiled,
    index: new ActionIndex(compiled.map((r) => r.patterns)),
    groupNames: new Map(Object.entries(groups)),
    hasConditions: compiled.some((rule) => rule.condition !== undefined),
    clockSkewSeconds: (options.clockSkewMs ?? 0) / 1000,
  };
}

/** The shorter of two optional durations (ms), in whole seconds (sign-in claims are whole seconds). */
function shortest(a: number | undefined, b: number | undefined): number | undefined {
  const ms = Math.min(a ?? Infinity, b ?? Infinity);
  return ms === Infinity ? undefined : Math.floor(ms / 1000);
}

function compilePatterns(actions: readonly string[], report: (key: string, why: string) => void): ActionPattern[] {
  const patterns: ActionPattern[] = [];
  actions.forEach((action, i) => {
    try {
      patterns.push(compilePattern(action));
    } catch (err) {
      if (!(err instanceof PatternError)) throw err;
      report(`actions[${i}]`, err.message);
    }
  });
  return patterns;
}

/** A public rule is evaluated without a token, so any requirement on it could never be checked. */
function checkPublic(rule: RuleConfig, report: (key: string, why: string) => void): void {
  const stated = REQUIREMENT_KEYS.filter((key) => rule[key] !== undefined);
  if (stated.length > 0) report('', `a public rule needs no token, so it cannot also require ${stated.join(', ')}`);
  if (rule.app_only !== undefined) report('app_only', 'not allowed on a public rule (no token is checked)');
  if (rule.when !== undefined) report('when', 'not allowed on a public rule (it is answered before any token or fact is read)');
}

function idsByName(groups: Readonly<Record<string, string>>): Map<string, string[]> {
  const byName = new Map<string, string[]>();
  for (const [id, name] of Object.entries(groups)) byName.set(name, [...(byName.get(name) ?? []), id]);
  return byName;
}

function resolveGroups(
  names: readonly string[] | undefined,
  idsOf: ReadonlyMap<string, readonly string[]>,
  report: (i: number, why: string) => void,
): ReadonlySet<string> | undefined {
  if (!names) return undefined;
  const ids = new Set<string>();
  names.forEach((name, i) => {
    const known = idsOf.get(name);
    if (known?.length === 1) ids.add(known[0] as string);
    else if (known) report(i, `group name "${name}" is ambiguous: the groups map gives it to ${known.join(', ')}`);
    else if (GUID.test(name)) ids.add(name);
    else report(i, `unknown group name "${name}" (name it in the groups map, or use its object id)`);
  });
  return ids;
}

/**
 * Says why rule `index` can never decide, or returns undefined. The first matching rule decides
 * whatever its outcome, so a rule all of whose patterns an earlier rule covers is dead config.
 */
function shadowingRule(rules: readonly CompiledRule[], index: number): string | undefined {
  const rule = rules[index];
  if (!rule || rule.patterns.length === 0) return undefined;
  const reasons: string[] = [];
  for (const pattern of rule.patterns) {
    const hit = coveringPattern(rules.slice(0, index), pattern);
    if (!hit) return undefined;
    reasons.push(`"${pattern.source}" is matched first by rules[${hit.rule.index}] (id ${hit.rule.id}) "${hit.by.source}"`);
  }
  return reasons.join('; ');
}

function coveringPattern(earlier: readonly CompiledRule[], pattern: ActionPattern) {
  for (const rule of earlier) {
    const by = rule.patterns.find((p) => covers(p, pattern));
    if (by) return { rule, by };
  }
  return undefined;
}

function toSet(values: readonly string[] | undefined): ReadonlySet<string> | undefined {
  return values ? new Set(values) : undefined;
}
