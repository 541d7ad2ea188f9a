/**
 * Whether a JSON text names a member twice in one object. `JSON.parse` keeps the last of duplicates silently;
 * another parser (the upstream service re-reading the token, a log pipeline) may keep the first, so a signed
 * `{"roles":["Nobody"],"roles":["Admin"]}` would mean two things. RFC 7515 §4 and RFC 7519 §4 allow either refusing
 * such a token or keeping the last; gatehouse refuses it, so every reader of a token it accepted reads the same claims.
 */

/** Every string literal of a JSON text, and whether a `:` follows it (a member name). */
const STRING = /"(?:[^"\\]|\\.)*"(\s*:)?/g;

/**
 * True when `text` (which `JSON.parse` accepted, giving `value`) names some member twice in one object: its member
 * names outnumber the members `value` holds. Linear in the text; iterative, so nesting depth costs no stack.
 */
export function hasDuplicateMembers(text: string, value: unknown): boolean {
  let names = 0;
  for (const match of text.matchAll(STRING)) if (match[1] !== undefined) names += 1;
  let members = 0;
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const next = pending.pop();
    if (next === null || typeof next !== 'object') continue;
    if (Array.isArray(next)) {
      for (const item of next) pending.push(item);
      continue;
    }
    for (const key of Object.keys(next)) {
      members += 1;
      pending.push((next as Record<string, unknown>)[key]);
    }
  }
  return names > members;
}
