/**
 * The last requirement of a rule: its `when` condition, evaluated for the call. False denies CONDITION_NOT_MET
 * naming the rule; a condition that could not be evaluated (a missing key, a wrong type, a result that is not a
 * bool, any exception) denies CONDITION_NOT_MET too, saying so. Never an allow on error.
 */
import type { Principal } from '../contract/principal.js';
import type { CompiledRule } from './compile-rules.js';
import type { ConditionResult } from './condition.js';
import { conditionInput, type Facts } from './condition-variables.js';
import { deny, type Denied } from './decision.js';
import { bindParams, NO_PARAMS } from './path-params.js';

/** Facts and time of one decision: what `authorize` is given beside the principal and action. */
export interface DecisionContext {
  readonly facts?: Facts;
  /** Milliseconds since the epoch, for `now`. */
  readonly nowMs: number;
}

/** The value of `rule`'s condition for this call, or why it could not be evaluated; undefined without a condition. */
export function evaluateCondition(
  rule: CompiledRule,
  principal: Principal,
  action: string,
  context: DecisionContext | undefined,
): ConditionResult | undefined {
  const condition = rule.condition;
  if (!condition) return undefined;
  try {
    if (!context || !Number.isFinite(context.nowMs)) return { error: 'no time of decision was given' };
    const pattern = rule.patterns.find((p) => p.matches(action));
    const params = pattern ? bindParams(pattern, action) : NO_PARAMS;
    return condition.evaluate(conditionInput(condition.reads, principal, action, params, context.facts, context.nowMs));
  } catch (err) {
    // A bad percent escape in a bound segment, or a fact a door could not build: denied, like any error.
    return { error: err instanceof Error ? err.message : 'evaluation failed' };
  }
}

/** Undefined when the condition holds (or there is none); else the denial. */
export function checkCondition(
  rule: CompiledRule,
  principal: Principal,
  action: string,
  context: DecisionContext | undefined,
): Denied | undefined {
  const result = evaluateCondition(rule, principal, action, context);
  if (!result) return undefined;
  if ('error' in result) {
    return deny('CONDITION_NOT_MET', `the condition (when) of rule ${rule.id} could not be evaluated: ${result.error}`, rule.id);
  }
  return result.value ? undefined : deny('CONDITION_NOT_MET', `the condition (when) of rule ${rule.id} is not met`, rule.id);
}
