/**
 * The values a matched action gives a pattern's named segments (`GET /users/{user}/orders/*` and
 * `GET /users/u1/orders/7` give `user` → `u1`): the `params` of a rule's `when` condition. Only asked for a rule
 * that has a condition, so the other rules never split an action.
 */
import type { ActionPattern } from './action-pattern.js';
import { isHttpAction } from './http-action.js';

/** No named segment, or no condition to read them: one frozen empty map for all. */
export const NO_PARAMS: ReadonlyMap<string, string> = Object.freeze(new Map<string, string>());

/**
 * The named segments of `pattern` bound to `action`'s segments; `pattern` must match `action`. An HTTP path's
 * segment is percent-decoded (`a%40b` binds `a@b`; the engine refused `%2F` and malformed escapes before), so it
 * compares with a claim as written; a gRPC method has nothing to decode.
 */
export function bindParams(pattern: ActionPattern, action: string): ReadonlyMap<string, string> {
  if (!pattern.named) return NO_PARAMS;
  const params = new Map<string, string>();
  const http = isHttpAction(action);
  const parts = segmentsOf(action, http);
  pattern.segments.forEach((segment, i) => {
    const value = parts[i];
    if (segment.param !== undefined && value !== undefined) params.set(segment.param, http ? decodeURIComponent(value) : value);
  });
  return params;
}

/** Split as patterns are: an HTTP action's method is its first segment, then its path's `/`-separated parts. */
function segmentsOf(action: string, http: boolean): string[] {
  if (!http) return action.split('/');
  const space = action.indexOf(' ');
  return [action.slice(0, space), ...action.slice(space + 1).split('/')];
}
