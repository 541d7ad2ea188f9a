/**
 * The revocation file (`revocations.file`): a YAML list of entries, each naming what it revokes (`sub`, `oid`,
 * `jti`, `uti`, `client_id`: every one given must match), optionally only for one `issuer` and only for tokens
 * issued before `issued_before`. Read and validated here, once per load; every problem names its entry and key
 * (`revocations.file (revoked.yaml): [3].issued_before: ...`). A file that cannot be read or does not validate
 * is a ConfigError: at start it refuses the server, on a reload the last good list stays. Very long lists are best
 * written as a JSON array (see {@link jsonList}).
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { z } from 'zod';
import { ConfigError, formatIssue } from './load.js';

/** The fields an entry may match on, most selective first (an entry is indexed under the first it names). */
export const REVOCATION_MATCHERS = ['jti', 'uti', 'oid', 'sub', 'client_id'] as const;
export type RevocationMatcher = (typeof REVOCATION_MATCHERS)[number];

/** `2026-11-03T10:00:00Z`, `2026-11-03T10:00:00.5+01:00`: a full RFC 3339 date-time with an offset. */
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

const value = z.string().min(1, 'must not be empty');

const entrySchema = z
  .object({
    sub: value.optional(),
    oid: value.optional(),
    jti: value.optional(),
    uti: value.optional(),
    client_id: value.optional(),
    issuer: value.optional(),
    issued_before: z
      .string()
      .refine((t) => RFC3339.test(t) && !Number.isNaN(Date.parse(t)) && sameCalendarDate(t), {
        message: 'must be an RFC 3339 time with an offset, e.g. "2026-11-03T10:00:00Z" (quote it)',
      })
      .optional(),
  })
  .strict()
  .refine((entry) => REVOCATION_MATCHERS.some((m) => entry[m] !== undefined), {
    message: `an entry needs at least one of ${REVOCATION_MATCHERS.join(', ')} (issuer and issued_before only narrow it)`,
  });

/** An empty file is an empty list; `[]` too. */
const fileSchema = z.array(entrySchema, { error: 'the file must hold a YAML list of entries (- sub: ...)' });

/** One validated entry, as written in the file. */
export type RevocationEntry = z.output<typeof entrySchema>;

/** Where the problems of a revocation file are reported: the config key, then the file. */
const KEY = 'revocations.file';

/** Reads and validates the revocation file. Throws ConfigError naming `revocations.file`, the entry and its key. */
export function loadRevocationFile(file: string): { readonly entries: readonly RevocationEntry[]; readonly text: string } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(file, [`${KEY}: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`]);
  }
  return { entries: parseRevocationText(text, file), text };
}

/** Parses and validates the text of a revocation file (`source` names it in problems). */
export function parseRevocationText(text: string, source: string): readonly RevocationEntry[] {
  let raw: unknown = jsonList(text);
  try {
    raw ??= parseYaml(text, { prettyErrors: true, uniqueKeys: true });
  } catch (err) {
    const message = err instanceof YAMLParseError ? err.message.split('\n')[0]! : String(err);
    throw new ConfigError(source, [`${KEY} (${source}): not valid YAML: ${message}`]);
  }
  const result = fileSchema.safeParse(raw ?? []);
  if (!result.success) {
    throw new ConfigError(
      source,
      result.error.issues.map((issue) => `${KEY} (${source}): ${formatIssue(issue)}`),
    );
  }
  return result.data;
}

/**
 * A file written as a JSON array (JSON is YAML) is read by JSON.parse: ~40x faster than the YAML parser, which
 * takes seconds over 100,000 entries (and a load runs on the event loop). Anything else is YAML.
 */
function jsonList(text: string): unknown {
  if (!text.trimStart().startsWith('[')) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined; // a YAML flow sequence ([{ sub: a }]) or a mistake the YAML parser will name
  }
}

/** False for a date the calendar has not (2026-02-30): Date.parse would roll it over to another day in silence. */
function sameCalendarDate(text: string): boolean {
  const [year, month, day] = text.slice(0, 10).split('-').map(Number) as [number, number, number];
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}
