/**
 * The HTTP request a proxy door (Envoy Check, forward auth) hands a `when` condition as `request`: method, path (no
 * query string or fragment, as the action has it), host, and the headers with lower-cased names, a repeated header
 * joined with ",", pseudo-headers (`:path`) left out. Never the credentials: `authorization` and `proxy-authorization` are left out, and so are the
 * `x-gatehouse-*` identity headers, which only gatehouse sets (a caller's own would be forged).
 */
import type { RequestFacts } from '../policy/condition-variables.js';
import { IDENTITY_HEADER_PREFIX } from './http-answer.js';

const WITHHELD: ReadonlySet<string> = new Set(['authorization', 'proxy-authorization']);

/** `headers`: every (name, value) as received, in order. */
export function requestFacts(method: string, uri: string, host: string, headers: Iterable<readonly [string, string]>): RequestFacts {
  const held = new Map<string, string>();
  for (const [key, value] of headers) {
    const name = key.toLowerCase();
    // Envoy's pseudo-headers (:authority, :path) are the host and path, given as such.
    if (WITHHELD.has(name) || name.replace(/_/g, '-').startsWith(IDENTITY_HEADER_PREFIX) || name.startsWith(':')) continue;
    const before = held.get(name);
    held.set(name, before === undefined ? value : `${before},${value}`);
  }
  const end = uri.search(/[?#]/);
  return { method, path: end === -1 ? uri : uri.slice(0, end), host, headers: held };
}
