/**
 * Plain HTTP requests as actions: `"<METHOD> <path>"` (`GET /orders/42`). The front doors build the action from
 * what the proxy forwards ({@link httpAction}); the engine refuses, before any rule is consulted, an action whose
 * path is not in canonical form ({@link refuseNonCanonical}), so `/orders/..%2fadmin` can never reach a rule for
 * `/orders/*`. Rules match canonical paths only; a path is never repaired into one (a repaired path is one the
 * upstream may read differently).
 *
 * Not canonical, and refused: no leading `/`; an empty segment (`//`); a `.` or `..` segment; `\`; a
 * percent-encoded `/`, `\` or unreserved character (`%2F`, `%5C`, `%2E`, `%41`: decoded, the path says something
 * else than it shows); a `%` not followed by two hex digits; `;` (servers disagree on path parameters); control
 * characters, whitespace, `?` and `#`. A method is upper-case letters.
 */

/** An action of this form is an HTTP request (a gRPC method starts with `/`, a custom action has no space). */
export function isHttpAction(action: string): boolean {
  return action.includes(' ');
}

/**
 * The action for a request with `method` and request target `uri`, as a proxy forwards them: the query string is
 * dropped, nothing else is touched (the engine refuses what is not canonical). A `#` is kept, so it is refused: a
 * client never sends a fragment, and a proxy passes `/public/x#/../../admin` upstream whole, where a server that
 * cleans paths serves `/admin`.
 */
export function httpAction(method: string, uri: string): string {
  const end = uri.indexOf('?');
  return `${method} ${end === -1 ? uri : uri.slice(0, end)}`;
}

const METHOD = /^[A-Z]+$/;
// Unreserved characters (RFC 3986 §2.3) and the separators "/" and "\": never to be sent encoded. Control bytes
// (%00-%1F, %7F) and the lead bytes of overlong UTF-8 (%C0, %C1, which decode to "." or "/" in lax decoders) are
// never canonical either.
const ENCODED_FORBIDDEN = /%(?:2[dDeEfF]|3\d|[46][1-9a-fA-F]|[57][0-9aA]|5[cCfF]|7[eEfF]|[01][0-9a-fA-F]|[cC][01])/;
const MALFORMED_ESCAPE = /%(?![0-9a-fA-F]{2})/;
// Controls, whitespace, "\", ";", "?" and "#" (the last two are cut by httpAction; anywhere else they are smuggled).
// eslint-disable-next-line no-control-regex -- control characters are exactly what this refuses
const FORBIDDEN_CHAR = /[\u0000-\u0020\u007f\\;?#\u0085\u00a0\u2028\u2029]/;

/** Why `action` (an HTTP action, see {@link isHttpAction}) is not canonical, or undefined when it is. */
export function refuseNonCanonical(action: string): string | undefined {
  const space = action.indexOf(' ');
  const method = action.slice(0, space);
  const path = action.slice(space + 1);
  if (!METHOD.test(method)) return 'the request method is not an upper-case HTTP method';
  if (!path.startsWith('/')) return 'the request path does not start with "/"';
  if (FORBIDDEN_CHAR.test(path)) return 'the request path holds a control character, whitespace, "\\", ";", "?" or "#"';
  if (MALFORMED_ESCAPE.test(path)) return 'the request path holds a "%" that is not a percent-encoded byte';
  if (ENCODED_FORBIDDEN.test(path)) {
    return 'the request path holds an encoded "/", "\\", unreserved or control character (such as %2F, %2E or %00)';
  }
  const segments = path.split('/');
  for (let i = 1; i < segments.length; i++) {
    const segment = segments[i]!;
    if (segment === '.' || segment === '..') return 'the request path holds a "." or ".." segment';
    if (segment === '' && i < segments.length - 1) return 'the request path holds an empty segment ("//")';
  }
  return undefined;
}
