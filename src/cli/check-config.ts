/** `gatehouse check-config`: the whole config, validated and its rules compiled, without listening anywhere. */
import { ConfigError, loadConfigFile } from '../config/load.js';
import { loadRevocationFile } from '../config/revocation-file.js';
import type { Config } from '../config/schema.js';
import { compilePolicy } from '../decisions/create-authorizer.js';
import { PolicyError } from '../policy/compile-rules.js';
import { EXIT_FAILED, EXIT_OK } from './exit-codes.js';
import { renderProblems } from './render.js';

export type CheckedConfig =
  | { readonly ok: true; readonly config: Config; readonly revocations: number }
  | { readonly ok: false; readonly problems: readonly string[] };

/**
 * Loads `file` (with the environment's overrides), compiles its rules and loads its revocation file (a missing
 * one is a problem naming `revocations.file`); every problem, or the config.
 */
export function checkConfigFile(file: string): CheckedConfig {
  try {
    const config = loadConfigFile(file);
    compilePolicy(config);
    const revocations = config.revocations.file ? loadRevocationFile(config.revocations.file).entries.length : 0;
    return { ok: true, config, revocations };
  } catch (err) {
    if (err instanceof ConfigError || err instanceof PolicyError) return { ok: false, problems: err.problems };
    throw err;
  }
}

/** Prints `OK` and a summary, or the problems on stderr (exit 2). */
export function checkConfigCommand(file: string): number {
  const checked = checkConfigFile(file);
  if (!checked.ok) {
    console.error(renderProblems(file, checked.problems));
    return EXIT_FAILED;
  }
  const { issuers, rules, revocations } = checked.config;
  const count = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;
  const revoked = revocations.file ? `, ${count(checked.revocations, 'revocation entry').replace(/entrys$/, 'entries')}` : '';
  console.log(
    `OK: ${file}: ${count(issuers.length, 'issuer')} (${issuers.map((i) => i.id).join(', ')}), ${count(rules.length, 'rule')}${revoked}`,
  );
  return EXIT_OK;
}
