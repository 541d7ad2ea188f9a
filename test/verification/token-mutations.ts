/**
 * Seeded mutations of a compact JWT for fuzzing: byte and character damage, truncation, segment shuffles, random
 * unicode, and JSON-level changes (huge numbers, deep nesting, long strings, type confusion, hostile objects) that
 * keep the old signature or are re-signed by the issuer's own key. Same seed and same token lengths, same run.
 */
import { b64 } from './loopback-issuer.js';

/** xorshift32: small, fast, and the same sequence on every machine. */
export function prng(seed: number) {
  let x = seed >>> 0 || 1;
  const next = () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
  return {
    int: (n: number) => next() % n,
    pick: <T>(items: readonly T[]): T => items[next() % items.length]!,
    chance: (p: number) => next() / 2 ** 32 < p,
  };
}
export type Rng = ReturnType<typeof prng>;

export interface MutationTarget {
  readonly token: string;
  /** Signs `headerB64.payloadB64` with the key that signed `token`, when the test holds it. */
  readonly resign: ((headerB64: string, payloadB64: string) => string) | undefined;
  /** Values that make sense in this token's claims (its audience, tenant, times), so some changes stay valid. */
  readonly plausible: readonly unknown[];
}

export interface Mutation {
  readonly token: string;
  /** Re-signed by the issuer's key: it may verify, and must then mean what it says. */
  readonly resigned: boolean;
  readonly op: string;
}

const B64URL = [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'];
const ODD_CHARS = [...'.=+/ \t\n\u0000é\u00a0\u200b\u2028\u202e．😀\ufeff', '\ud800', '\udfff'];
const CLAIMS = 'iss sub aud exp nbf iat tid ver scp scope roles groups azp appid idtyp _claim_names hasgroups'.split(' ');
const HEADER_PARAMS = 'alg kid x5t typ nonce crit jku x5c __proto__'.split(' ');
const HUGE_NUMBERS =
  '1e308 -1e308 1e999 -1e999 1e300 -1e300 9007199254740993 123456789012345678901234567890 -0 1e-400 8.64e12 -8.64e12 8.64e15 1e21 0.5';
const HOSTILE = ['{"toString":0}', '{"valueOf":0,"toString":0}', '{"__proto__":{"admin":true}}', '{"constructor":{"prototype":{"x":1}}}'];
const OPS = 'chars bits truncate segments unicode delete json-set json-set json-retype json-retype json-delete json-whole'.split(' ');

function randomUnicode(rng: Rng, length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) {
    out += rng.chance(0.3)
      ? rng.pick(ODD_CHARS)
      : String.fromCodePoint(rng.pick([0x20, 0x7f, 0x400, 0x4e00, 0x1f600, 0xe000]) + rng.int(200));
  }
  return out;
}

/** A JSON value as text, chosen to stress parsers and claim checks. */
function rawValue(rng: Rng, plausible: readonly unknown[]): string {
  switch (rng.int(8)) {
    case 0:
      return rng.pick(HUGE_NUMBERS.split(' '));
    case 1: {
      const depth = rng.pick([2, 50, 1000, 5000, 20000]);
      return rng.chance(0.5) ? '['.repeat(depth) + ']'.repeat(depth) : '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
    }
    case 2:
      return JSON.stringify(rng.pick(['A', '€', 'x.y', '\\']).repeat(rng.pick([100, 5000, 60000])));
    case 3:
      return rng.pick([...HOSTILE, '{"length":1e999}', '[{"toString":0}]', '{"groups":"x"}']);
    case 4:
      return rng.chance(0.5) ? JSON.stringify(randomUnicode(rng, 1 + rng.int(30))) : rng.pick(['"\\ud800"', '"\\u0000"', '"a\\u0000b"']);
    case 5:
      return rng.pick(['null', 'true', 'false', '""', '" "', '0', '-1', '[]', '{}', '[1,"a",null]']);
    case 6:
      return JSON.stringify(rng.pick(plausible));
    default:
      return JSON.stringify(rng.int(2 ** 31));
  }
}

export function mutate(rng: Rng, target: MutationTarget): Mutation {
  const { token } = target;
  const parts = token.split('.') as [string, string, string];
  const op = rng.pick(OPS);
  const at = () => rng.int(token.length + 1);
  const damaged = (next: string): Mutation => ({ token: next, resigned: false, op });
  switch (op) {
    case 'chars': {
      const chars = [...token];
      for (let n = 1 + rng.int(3); n > 0; n--) chars[rng.int(chars.length)] = rng.chance(0.7) ? rng.pick(B64URL) : rng.pick(ODD_CHARS);
      return damaged(chars.join(''));
    }
    case 'bits': {
      const i = rng.int(3);
      const bytes = Buffer.from(parts[i]!, 'base64url');
      if (bytes.length > 0) bytes[rng.int(bytes.length)]! ^= 1 << rng.int(8);
      const next = [...parts];
      next[i] = bytes.toString('base64url');
      return damaged(next.join('.'));
    }
    case 'truncate':
      return damaged(rng.chance(0.5) ? token.slice(0, at()) : token.slice(at()));
    case 'segments': {
      const [h, p, s] = parts;
      return damaged(
        rng.pick([
          `${p}.${h}.${s}`,
          `${h}.${s}.${p}`,
          `${h}.${h}.${s}`,
          `${p}.${p}.${s}`,
          `${h}.${p}`,
          `${h}.${p}.${s}.${s}`,
          '..',
          `${h}..${s}`,
        ]),
      );
    }
    case 'unicode': {
      const i = at();
      return damaged(token.slice(0, i) + randomUnicode(rng, 1 + rng.int(20)) + token.slice(i));
    }
    case 'delete': {
      const i = at();
      return damaged(token.slice(0, i) + token.slice(i + 1 + rng.int(40)));
    }
    default:
      return jsonMutation(rng, target, parts, op);
  }
}

/** Changes the header or payload JSON, then either keeps the old signature or re-signs with the issuer's key. */
function jsonMutation(rng: Rng, target: MutationTarget, parts: [string, string, string], op: string): Mutation {
  const inHeader = rng.chance(0.3);
  const object = JSON.parse(Buffer.from(inHeader ? parts[0] : parts[1], 'base64url').toString('utf8')) as Record<string, unknown>;
  const json = JSON.stringify(object);
  // The member set in place (a placeholder, then the raw text); now and then appended as a duplicate instead, which
  // the verifier refuses as TOKEN_MALFORMED (readers could disagree on which of the two counts).
  const PLACEHOLDER = '\u0000gatehouse-fuzz\u0000';
  const withMember = (name: string, value: string) =>
    rng.chance(0.1) || !(name in object)
      ? `${json.slice(0, -1)}${json.length > 2 ? ',' : ''}${JSON.stringify(name)}:${value}}`
      : JSON.stringify({ ...object, [name]: PLACEHOLDER }).replace(JSON.stringify(PLACEHOLDER), () => value);
  let text: string;
  if (op === 'json-whole') {
    text = rawValue(rng, target.plausible);
  } else if (op === 'json-retype') {
    // Type confusion: a member that holds a string gets an object, array, number or null instead.
    const strings = Object.keys(object).filter((k) => typeof object[k] === 'string');
    text = withMember(
      rng.pick(strings.length > 0 ? strings : Object.keys(object)),
      rng.pick([...HOSTILE, '{}', '[]', '["a"]', '0', 'null', 'true']),
    );
  } else if (op === 'json-delete') {
    delete object[rng.pick(Object.keys(object))];
    text = JSON.stringify(object);
  } else {
    const name = rng.chance(0.5) ? rng.pick(Object.keys(object)) : rng.pick(inHeader ? HEADER_PARAMS : CLAIMS);
    text = withMember(name, rawValue(rng, target.plausible));
  }
  const h = inHeader ? b64(text) : parts[0];
  const p = inHeader ? parts[1] : b64(text);
  if (target.resign && rng.chance(0.5)) return { token: target.resign(h, p), resigned: true, op: `${op}+resign` };
  return { token: `${h}.${p}.${parts[2]}`, resigned: false, op };
}
