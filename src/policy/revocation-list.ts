/**
 * The revocation list, compiled once per load into hash maps (matcher field → value → entries), so that checking
 * a principal costs a few map lookups whatever the list's size: one per field the principal carries, plus the
 * entries filed under its exact values (usually none). Pure and immutable; a load builds a new list and swaps it.
 *
 * An entry names one or more of `jti`, `uti`, `oid`, `sub`, `client_id`: every one it names must match. It is
 * filed under the first it names (most selective first), and the rest are checked on the few entries found.
 * `issuer` limits it to one configured issuer; `issued_before` to tokens whose `iat` is earlier. A token with no
 * usable `iat` under an `issued_before` entry is refused: fail closed.
 */
import type { Principal } from '../contract/principal.js';
import { REVOCATION_MATCHERS, type RevocationEntry, type RevocationMatcher } from '../config/revocation-file.js';

/** Which entry revoked a token: what an explanation and an operator's log show (never the token). */
export interface RevocationMatch {
  /** The entry's position in the file (0-based). */
  readonly index: number;
  /** The fields the entry matched on, in the file's terms (`sub`, `client_id`, ...). */
  readonly fields: readonly RevocationMatcher[];
  readonly issuer?: string;
  readonly issuedBefore?: string;
}

interface CompiledEntry {
  readonly index: number;
  readonly entry: RevocationEntry;
  readonly fields: readonly RevocationMatcher[];
  /** `issued_before` in seconds since the epoch; undefined: every token matching the fields. */
  readonly issuedBeforeSeconds: number | undefined;
}

export class RevocationList {
  /** No entries: nothing is revoked. */
  static readonly empty = new RevocationList([]);

  /** Entries in the file. */
  readonly size: number;
  readonly #byField: ReadonlyMap<RevocationMatcher, ReadonlyMap<string, readonly CompiledEntry[]>>;

  constructor(entries: readonly RevocationEntry[]) {
    this.size = entries.length;
    const byField = new Map<RevocationMatcher, Map<string, CompiledEntry[]>>();
    entries.forEach((entry, index) => {
      const fields = REVOCATION_MATCHERS.filter((m) => entry[m] !== undefined);
      const first = fields[0]!;
      const issuedBeforeSeconds = entry.issued_before === undefined ? undefined : Date.parse(entry.issued_before) / 1000;
      let values = byField.get(first);
      if (!values) byField.set(first, (values = new Map()));
      const key = entry[first]!;
      const compiled: CompiledEntry = { index, entry, fields, issuedBeforeSeconds };
      const filed = values.get(key);
      if (filed) filed.push(compiled);
      else values.set(key, [compiled]);
    });
    this.#byField = byField;
  }

  /** The first entry (in file order) that revokes this principal's token, or undefined. */
  match(principal: Principal): RevocationMatch | undefined {
    if (this.size === 0) return undefined;
    let found: CompiledEntry | undefined;
    for (const [field, values] of this.#byField) {
      const value = fieldOf(principal, field);
      if (value === undefined) continue;
      for (const candidate of values.get(value) ?? []) {
        if ((!found || candidate.index < found.index) && matches(candidate, principal)) found = candidate;
      }
    }
    if (!found) return undefined;
    const { index, fields, entry } = found;
    return {
      index,
      fields,
      ...(entry.issuer !== undefined ? { issuer: entry.issuer } : {}),
      ...(entry.issued_before !== undefined ? { issuedBefore: entry.issued_before } : {}),
    };
  }
}

/** Compiles validated entries into a list ({@link RevocationList}). */
export function compileRevocations(entries: readonly RevocationEntry[]): RevocationList {
  return entries.length === 0 ? RevocationList.empty : new RevocationList(entries);
}

/** The caller-safe sentence for a revoked token: which kind of entry matched, never the token or its values. */
export function describeRevocation(match: RevocationMatch): string {
  const scope = match.issuer !== undefined ? ` of issuer ${match.issuer}` : '';
  const when = match.issuedBefore !== undefined ? `, issued before ${match.issuedBefore}` : '';
  return `the token is revoked: it matches a revocation entry on ${match.fields.join(' + ')}${scope}${when}`;
}

function matches(candidate: CompiledEntry, principal: Principal): boolean {
  const { entry, fields, issuedBeforeSeconds } = candidate;
  if (entry.issuer !== undefined && entry.issuer !== principal.issuerId) return false;
  for (const field of fields) if (fieldOf(principal, field) !== entry[field]) return false;
  if (issuedBeforeSeconds === undefined) return true;
  const iat = principal.claims.iat;
  // No usable iat: the token cannot show it was issued after the cut-off, so it is refused.
  return !(typeof iat === 'number' && Number.isFinite(iat) && iat >= issuedBeforeSeconds);
}

/** The principal's value for a matcher field; undefined when it has none (an empty claim never matches). */
function fieldOf(principal: Principal, field: RevocationMatcher): string | undefined {
  const value =
    field === 'sub'
      ? principal.subject
      : field === 'oid'
        ? principal.objectId
        : field === 'client_id'
          ? principal.clientId
          : principal.claims[field];
  return typeof value === 'string' && value !== '' ? value : undefined;
}
