/** Microsoft's real Entra ID formats, kept in the repository as fixtures (test/fixtures/entra/, never edited). */
import { readFileSync } from 'node:fs';

export const VECTORS_DIR = new URL('../fixtures/entra/', import.meta.url);

export function readVector<T = Record<string, unknown>>(name: string): T {
  return JSON.parse(readFileSync(new URL(name, VECTORS_DIR), 'utf8')) as T;
}

export interface RealEntraToken {
  token: string;
  jwks: { keys: Record<string, unknown>[] };
  clock: { valid_from: string; expires: string; check_at: string };
  expect: { issuer: string; tenant_id: string; audience: string; object_id: string; subject: string; version: string };
}
