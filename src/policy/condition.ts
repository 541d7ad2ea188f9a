/**
 * A rule's `when`: a CEL expression (Common Expression Language, as Kubernetes, Envoy RBAC and Google IAM use it),
 * compiled once at config load with @marcbachmann/cel-js: parsed and type-checked against the declared variables
 * (condition-variables.ts), its result a bool. Evaluated per call only for the rule that decides, after the
 * rule's other requirements hold. Any failure to evaluate is a value here (`{ error }`), which the rule turns into
 * a denial: a condition never allows by accident.
 *
 * Cost: the library counts no evaluation steps, so the cost is bounded by shape instead: at most
 * MAX_CONDITION_LENGTH characters (config schema), MAX_AST_NODES nodes, no comprehension (`all`, `exists`, `map`,
 * `filter`, `exists_one`) inside another, and no `matches` (JavaScript's backtracking RegExp, not RE2: a pattern
 * could take exponential time on a header). One evaluation is then linear in the size of its inputs, themselves
 * bounded (a token, at most 64 attributes, at most 256 headers).
 */
import { Environment, type ASTNode } from '@marcbachmann/cel-js';
import { CONDITION_VARIABLES, declareConditionVariables, type ConditionInput, type ConditionVariable } from './condition-variables.js';

/** At most this many AST nodes per expression. */
export const MAX_AST_NODES = 256;
const MAX_DEPTH = 32;
const COMPREHENSIONS: ReadonlySet<string> = new Set(['all', 'exists', 'exists_one', 'map', 'filter']);
const REFUSED_FUNCTIONS: ReadonlyMap<string, string> = new Map([
  ['matches', '"matches" is not available: its regular expressions are not RE2 and could make every call slow'],
  // Each bind may multiply the size of what it binds (["" + v, v, …].join()), so a few nested binds build gigabytes.
  ['bind', '"cel.bind" is not available: nested binds can multiply a value into gigabytes within the size bounds'],
]);

export type ConditionResult = { readonly value: boolean } | { readonly error: string };

/** One compiled `when`. */
export interface CompiledCondition {
  readonly source: string;
  /** The variables the expression names: a decision depends on these facts, and the cache keys it by them. */
  readonly reads: ReadonlySet<ConditionVariable>;
  /** Never throws: an evaluation error, or a result that is not a bool, is `{ error }`. */
  evaluate(input: ConditionInput): ConditionResult;
}

/** An expression that cannot be compiled; `message` names the position (`at 1:13`) and the cause. */
export class ConditionError extends Error {
  override readonly name = 'ConditionError';
  readonly code = 'ERR_CONDITION_INVALID';
}

/** The environment every condition is checked and run in. Built once per policy compile (no module state). */
export function conditionEnvironment(): Environment {
  const env = new Environment({
    limits: { maxAstNodes: MAX_AST_NODES, maxDepth: MAX_DEPTH, maxListElements: 64, maxMapEntries: 64, maxCallArguments: 8 },
  });
  return declareConditionVariables(env);
}

/** Compiles `source`, or throws a {@link ConditionError}. */
export function compileCondition(env: Environment, source: string): CompiledCondition {
  const checked = env.check(source);
  if (!checked.valid) throw new ConditionError(positioned(source, checked.error));
  if (checked.type !== 'bool' && checked.type !== 'dyn') {
    throw new ConditionError(`at 1:1: the condition's result is ${checked.type}, not bool`);
  }
  const program = env.parse(source);
  const reads = new Set<ConditionVariable>();
  inspect(source, program.ast, reads, false);
  return {
    source,
    reads,
    evaluate(input) {
      try {
        const value: unknown = program(input);
        // A dyn result (a claim) may be anything at run time: only a real bool counts.
        if (typeof value === 'boolean') return { value };
        return { error: `its result is ${describe(value)}, not a bool` };
      } catch (err) {
        return { error: summary(err) };
      }
    },
  };
}

/** Collects the variables named, and refuses what the cost bound forbids. */
function inspect(source: string, node: unknown, reads: Set<ConditionVariable>, inComprehension: boolean): void {
  if (!isNode(node)) {
    if (Array.isArray(node)) for (const child of node) inspect(source, child, reads, inComprehension);
    return;
  }
  const { op, args } = node;
  if (op === 'id' && typeof args === 'string' && (CONDITION_VARIABLES as readonly string[]).includes(args)) {
    reads.add(args as ConditionVariable);
  }
  if (op !== 'call' && op !== 'rcall') {
    inspect(source, args, reads, inComprehension);
    return;
  }
  const [name, receiverOrArgs, rcallArgs] = args as unknown[];
  const refused = typeof name === 'string' ? REFUSED_FUNCTIONS.get(name) : undefined;
  if (refused) throw new ConditionError(`at ${lineColumn(source, node.pos)}: ${refused}`);
  const comprehension = op === 'rcall' && typeof name === 'string' && COMPREHENSIONS.has(name);
  if (comprehension && inComprehension) {
    throw new ConditionError(
      `at ${lineColumn(source, node.pos)}: "${name}" inside another comprehension is not allowed (its cost would multiply)`,
    );
  }
  // A chained receiver (`a.filter(…).all(…)`) adds its cost; only the arguments run once per element.
  if (op === 'rcall') inspect(source, receiverOrArgs, reads, inComprehension);
  inspect(source, op === 'rcall' ? rcallArgs : receiverOrArgs, reads, inComprehension || comprehension);
}

function isNode(value: unknown): value is ASTNode & { pos: number } {
  return typeof value === 'object' && value !== null && 'op' in value && typeof (value as { op: unknown }).op === 'string';
}

function positioned(source: string, error: unknown): string {
  const range = (error as { range?: { start?: number } } | undefined)?.range;
  return `at ${lineColumn(source, range?.start ?? 0)}: ${summary(error)}`;
}

/** `line:column`, both from 1. */
function lineColumn(source: string, offset: number): string {
  const before = source.slice(0, Math.max(0, offset));
  const line = before.split('\n').length;
  return `${line}:${offset - before.lastIndexOf('\n')}`;
}

/** The library's message without its source excerpt (which may span lines). */
function summary(error: unknown): string {
  const text = (error as { summary?: unknown } | undefined)?.summary;
  if (typeof text === 'string') return text;
  return error instanceof Error ? error.message.split('\n')[0]! : 'evaluation failed';
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (value instanceof Map) return 'a map';
  return `a ${typeof value === 'bigint' ? 'int' : typeof value}`;
}
