/** `gatehouse check-config`: the whole config, validated and its rules compiled, without listening anywhere. */
import { ConfigError, loadConfigFile } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { compilePolicy } from '../decisions/create-authorizer.js';
import { PolicyError } from '../policy/compile-rules.js';
import { EXIT_FAILED, EXIT_OK } from './exit-codes.js';
import { renderProblems } from './render.js';

export type CheckedConfig = { readonly ok: true; readonly config: Config } | { readonly ok: false; readonly problems: readonly string[] };

/** Loads `file` (with the environment's overrides) and compiles its rules; every problem, or the config. */
export function checkConfigFile(file: string): CheckedConfig {
  try {
    const config = loadConfigFile(file);
    compilePolicy(config);
    return { ok: true, config };
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
  const { issuers, rules } = checked.config;
  const count = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;
  console.log(`OK: ${file}: ${count(issuers.length, 'issuer')} (${issuers.map((i) => i.id).join(', ')}), ${count(rules.length, 'rule')}`);
  return EXIT_OK;
}
