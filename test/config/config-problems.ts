/** What the config tests share: a valid OIDC issuer, and the problems validation reports for a raw config. */
import assert from 'node:assert/strict';
import { ConfigError, validateConfig } from '../../src/config/load.js';

export const OIDC = { id: 'idp', type: 'oidc', issuer: 'https://idp.example.com', audiences: ['api'] };

/** Every problem `validateConfig` reports for `raw` (none: an empty list). */
export function problemsOf(raw: unknown): string[] {
  try {
    validateConfig(raw);
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return [...err.problems];
  }
  return [];
}
