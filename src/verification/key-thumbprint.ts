/**
 * A signing key's identity is its material, never the name it is published under: a provider may replace the
 * key behind a `kid` (or its one kid-less key), and whatever the old key verified must then be forgotten.
 */
import { createHash, type KeyObject } from 'node:crypto';

/** sha256 of the public key's SPKI DER, base64url: equal exactly when the key material is equal. */
export function keyThumbprint(keyObject: KeyObject): string {
  return createHash('sha256')
    .update(keyObject.export({ format: 'der', type: 'spki' }))
    .digest('base64url');
}

/**
 * What a key is and may do: its material plus the `alg` and Entra `issuer` that bound what it may sign. A provider
 * that narrows a key (a new `alg`, an `issuer` that no longer covers a tenant) changes it as much as a new key does.
 */
export function keyIdentity(key: {
  readonly thumbprint: string;
  readonly alg?: string | undefined;
  readonly issuer?: string | undefined;
}): string {
  return `${key.thumbprint}\n${key.alg ?? ''}\n${key.issuer ?? ''}`;
}

/**
 * True when a name that served a key before (`kid`, `x5t`, the single kid-less key) now names no key or
 * another key: what was verified under that name may have been signed by a key the provider dropped.
 * Both maps: cache key (name) → {@link keyIdentity}.
 */
export function bindingsLost(previous: ReadonlyMap<string, string>, next: ReadonlyMap<string, string>): boolean {
  for (const [name, identity] of previous) if (next.get(name) !== identity) return true;
  return false;
}
