/**
 * `gatehouse revoke`: appends one entry to a revocation file, for an operator in a hurry. The file keeps its
 * comments and layout (YAML document round trip), the result is validated exactly as gatehouse will read it,
 * and it is written atomically (a temporary file beside it, then a rename), so a running gatehouse that watches
 * it never reads half a file. A missing file is created. Exit 0 written, 2 refused.
 */
import { existsSync, readFileSync, realpathSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { Document, isMap, isScalar, isSeq, parseDocument, YAMLSeq } from 'yaml';
import { ConfigError } from '../config/load.js';
import { parseRevocationText, type RevocationEntry } from '../config/revocation-file.js';
import { EXIT_FAILED, EXIT_OK } from './exit-codes.js';

export interface RevokeCommandOptions {
  readonly file: string;
  readonly sub?: string;
  readonly oid?: string;
  readonly jti?: string;
  readonly uti?: string;
  readonly clientId?: string;
  readonly issuer?: string;
  /** `now` or an RFC 3339 time. */
  readonly issuedBefore?: string;
}

export function revokeCommand(options: RevokeCommandOptions, now: () => Date = () => new Date()): number {
  const entry = entryOf(options, now);
  // Written where a symlink points (a ConfigMap's is read-only anyway; a local one stays a symlink).
  const target = existsSync(options.file) ? realpathSync(options.file) : options.file;
  const text = existsSync(target) ? readFileSync(target, 'utf8') : '';
  const next = appendEntry(text, entry);
  if (typeof next !== 'string') {
    console.error(`gatehouse revoke: ${options.file}: ${next.problem}`);
    return EXIT_FAILED;
  }
  try {
    parseRevocationText(next, options.file);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(`gatehouse revoke: the entry would not load:\n${err.problems.map((p) => `  - ${p}`).join('\n')}`);
    return EXIT_FAILED;
  }
  const temporary = `${target}.${process.pid}.tmp`;
  try {
    writeFileSync(temporary, next, { flag: 'wx' });
    renameSync(temporary, target);
  } catch (err) {
    rmSync(temporary, { force: true });
    console.error(`gatehouse revoke: cannot write ${options.file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    return EXIT_FAILED;
  }
  console.log(`revoked: appended ${JSON.stringify(entry)} to ${options.file}`);
  return EXIT_OK;
}

/** The entry in the file's terms; `issued_before: now` becomes the current time, to the millisecond (a token issued
 * earlier in the same second, whose `iat` is that second, is refused too). */
function entryOf(options: RevokeCommandOptions, now: () => Date): RevocationEntry {
  const issuedBefore = options.issuedBefore === 'now' ? now().toISOString() : options.issuedBefore;
  const fields: Record<string, string | undefined> = {
    sub: options.sub,
    oid: options.oid,
    jti: options.jti,
    uti: options.uti,
    client_id: options.clientId,
    issuer: options.issuer,
    issued_before: issuedBefore,
  };
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as RevocationEntry;
}

/** The file's text with `entry` appended to its list, comments kept; or why it cannot be. */
function appendEntry(text: string, entry: RevocationEntry): string | { problem: string } {
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length > 0) return { problem: `not valid YAML: ${doc.errors[0]!.message.split('\n')[0]}` };
  const node = doc.createNode(entry);
  if (isMap(node)) {
    node.flow = false;
    // Quoted, so that no YAML 1.1 reader takes it for a timestamp.
    const time = node.get('issued_before', true);
    if (isScalar(time)) time.type = 'QUOTE_DOUBLE';
  }
  if (doc.contents === null) {
    // Empty, or only comments: they stay, the list follows them.
    const list = new YAMLSeq<unknown>();
    list.items.push(node);
    return `${text}${text === '' || text.endsWith('\n') ? '' : '\n'}${new Document(list).toString()}`;
  }
  if (!isSeq(doc.contents)) return { problem: 'the file must hold a YAML list of entries (- sub: ...)' };
  (doc.contents as YAMLSeq<unknown>).items.push(node);
  return doc.toString();
}
