/**
 * What a cached decision is keyed by, beside the token: the action, and, when the deciding rule's `when` reads
 * them, a canonical encoding of the facts it read (attributes sorted by name; the request's method, path, host and
 * headers sorted by name). A decision that read `now` is never cached: it is `undefined` here. `principal`,
 * `action` and `params` need no key: the token and the action determine them.
 */
import type { CompiledPolicy } from '../policy/compile-rules.js';
import { decidingRule } from '../policy/authorize.js';
import type { Facts } from '../policy/condition-variables.js';

/** The cache key of this question, or undefined when its decision must not be cached. */
export function questionKey(policy: CompiledPolicy, action: string, facts: Facts | undefined): string | undefined {
  // Rules without conditions pay nothing: the action alone is the question.
  if (!policy.hasConditions) return action;
  // With conditions in the policy, every key is a JSON array, even one of the action alone: an action is any string
  // a caller chooses, so a raw action could otherwise spell another question's key. (A reload clears every answer,
  // so keys of the two forms never meet.)
  const reads = decidingRule(policy, action)?.condition?.reads;
  if (!reads) return JSON.stringify([action]);
  if (reads.has('now')) return undefined;
  const parts: unknown[] = [action];
  if (reads.has('attributes')) parts.push(sortedEntries(Object.entries(facts?.attributes ?? {})));
  if (reads.has('request')) {
    const request = facts?.request?.();
    parts.push(request ? [request.method, request.path, request.host, sortedEntries([...request.headers])] : null);
  }
  // JSON quotes whatever the values hold, so no two different fact sets share a key.
  return JSON.stringify(parts);
}

function sortedEntries(entries: [string, string][]): [string, string][] {
  return entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}
