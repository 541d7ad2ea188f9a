/**
 * Load → validated, frozen Config. A bad file never half-starts a server: every problem is reported
 * at once, each naming its key (`issuers[1].audiences: required: at least one audience`).
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import type { z } from 'zod';
import { configSchema, type Config } from './schema.js';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly source: string,
    readonly problems: readonly string[],
  ) {
    super(`invalid configuration in ${source}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/** Environment variables that override the listen addresses (containers set ports this way). */
export const ENV_OVERRIDES = {
  GATEHOUSE_GRPC_ADDRESS: ['server', 'grpc'],
  GATEHOUSE_HTTP_ADDRESS: ['server', 'http'],
} as const;

/** Reads and validates a YAML config file. Throws ConfigError naming every bad key. */
export function loadConfigFile(file: string, env: NodeJS.ProcessEnv = process.env): Config {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(file, [`cannot read the file: ${(err as NodeJS.ErrnoException).code ?? String(err)}`]);
  }
  return parseConfigText(text, file, env);
}

export function parseConfigText(text: string, source: string, env: NodeJS.ProcessEnv = {}): Config {
  let raw: unknown;
  try {
    raw = parseYaml(text, { prettyErrors: true, uniqueKeys: true });
  } catch (err) {
    const message = err instanceof YAMLParseError ? err.message.split('\n')[0]! : String(err);
    throw new ConfigError(source, [`not valid YAML: ${message}`]);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError(source, ['the file must hold a YAML mapping (server:, issuers:, ...)']);
  }
  return validateConfig(applyEnv(raw as Record<string, unknown>, env), source);
}

/** Validates an already-parsed object (used by `gatehouse dev` and by tests). */
export function validateConfig(raw: unknown, source = 'config'): Config {
  const result = configSchema.safeParse(raw);
  if (!result.success) throw new ConfigError(source, result.error.issues.map(formatIssue));
  return deepFreeze(result.data);
}

function applyEnv(raw: Record<string, unknown>, env: NodeJS.ProcessEnv): Record<string, unknown> {
  const out = { ...raw };
  for (const [name, [section, key]] of Object.entries(ENV_OVERRIDES)) {
    const value = env[name];
    if (!value) continue;
    const current = out[section];
    out[section] = { ...(current && typeof current === 'object' ? current : {}), [key]: value };
  }
  return out;
}

/** `issuers[1].audiences: required` */
export function formatIssue(issue: z.core.$ZodIssue): string {
  let path = '';
  for (const part of issue.path) {
    path += typeof part === 'number' ? `[${part}]` : path ? `.${String(part)}` : String(part);
  }
  let message = issue.message;
  if (issue.code === 'invalid_type' && /received undefined/.test(message)) message = 'required';
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((k) => `${path ? `${path}.` : ''}${k}: unknown key`).join('; ');
  }
  return `${path || '(top level)'}: ${message}`;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
