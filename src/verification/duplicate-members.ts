/**
 * Whether a JSON text names a member twice in one object. `JSON.parse` keeps the last of duplicates silently;
 * another parser (the upstream service re-reading the token, a log pipeline) may keep the first, so a signed
 * `{"roles":["Nobody"],"roles":["Admin"]}` would mean two things. RFC 7515 §4 and RFC 7519 §4 allow either refusing
 * such a token or keeping the last; gatehouse refuses it, so every reader of a token it accepted reads the same claims.
 */

/**
 * True when `text` (which `JSON.parse` accepted, giving `value`) names some member twice in one object: its member
 * names outnumber the members `value` holds. Linear in the text; iterative, so nesting depth costs no stack.
 */
export function hasDuplicateMembers(text: string, value: unknown): boolean {
  return memberNames(text) > membersOf(value);
}

const BACKSLASH = 0x5c;
const COLON = 0x3a;

/**
 * How many string literals of a JSON text a `:` follows (member names), found with indexOf: on a token's payload a
 * fraction of a regular expression's cost, and this runs on every verification.
 */
function memberNames(text: string): number {
  let names = 0;
  const n = text.length;
  let open = text.indexOf('"');
  while (open !== -1) {
    // The closing quote: the next one not escaped (preceded by an even run of backslashes).
    let close = text.indexOf('"', open + 1);
    while (close !== -1 && escaped(text, close)) close = text.indexOf('"', close + 1);
    if (close === -1) break;
    let k = close + 1;
    while (k < n && isJsonSpace(text.charCodeAt(k))) k += 1;
    if (k < n && text.charCodeAt(k) === COLON) names += 1;
    open = text.indexOf('"', close + 1);
  }
  return names;
}

function escaped(text: string, at: number): boolean {
  let backslashes = 0;
  while (text.charCodeAt(at - 1 - backslashes) === BACKSLASH) backslashes += 1;
  return backslashes % 2 === 1;
}

function isJsonSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

function membersOf(value: unknown): number {
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
  return members;
}
