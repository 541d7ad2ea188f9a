/**
 * Signing keys prepared once (JWK → KeyObject when the key set is fetched) and the one function that checks
 * a signature with them. The algorithm must fit the key: the token's `alg` never picks the method on its own.
 */
import { createPublicKey, constants, verify, type JsonWebKey, type KeyObject } from 'node:crypto';
import { keyThumbprint } from './key-thumbprint.js';

export interface SigningKey {
  readonly kid: string | undefined;
  readonly x5t: string | undefined;
  /** The key's own `alg`, when the JWK pins one. */
  readonly alg: string | undefined;
  /** Entra v2 keys name the issuer they may sign for (possibly the `{tenantid}` template). */
  readonly issuer: string | undefined;
  readonly keyObject: KeyObject;
  /** The key material's identity (sha256 of its SPKI): what tells a replaced key from the one it replaced. */
  readonly thumbprint: string;
  /** Algorithm family this key can verify: RSA (RS*, PS*), EC curve, or OKP (EdDSA). */
  readonly family: 'RSA' | 'P-256' | 'P-384' | 'P-521' | 'Ed25519' | 'Ed448';
}

const MIN_RSA_BITS = 2048;

interface AlgSpec {
  readonly family: SigningKey['family'] | 'EdDSA';
  readonly digest: string | null;
  readonly pss?: boolean;
  readonly ecdsa?: boolean;
}

const ALGS: Readonly<Record<string, AlgSpec>> = {
  RS256: { family: 'RSA', digest: 'sha256' },
  RS384: { family: 'RSA', digest: 'sha384' },
  RS512: { family: 'RSA', digest: 'sha512' },
  PS256: { family: 'RSA', digest: 'sha256', pss: true },
  PS384: { family: 'RSA', digest: 'sha384', pss: true },
  PS512: { family: 'RSA', digest: 'sha512', pss: true },
  ES256: { family: 'P-256', digest: 'sha256', ecdsa: true },
  ES384: { family: 'P-384', digest: 'sha384', ecdsa: true },
  ES512: { family: 'P-521', digest: 'sha512', ecdsa: true },
  EdDSA: { family: 'EdDSA', digest: null },
};

/**
 * Prepares one JWK from a provider's key set. Returns undefined for keys that can never verify a token
 * here (encryption keys, symmetric keys, private parts, weak RSA), so a bad key in a set does not spoil the rest.
 */
export function importSigningKey(jwk: unknown): SigningKey | undefined {
  if (jwk === null || typeof jwk !== 'object') return undefined;
  const k = jwk as Record<string, unknown>;
  if (k.use !== undefined && k.use !== 'sig') return undefined;
  if (Array.isArray(k.key_ops) && !k.key_ops.includes('verify')) return undefined;
  if (k.kty !== 'RSA' && k.kty !== 'EC' && k.kty !== 'OKP') return undefined;
  if ('d' in k) return undefined;
  let keyObject: KeyObject;
  try {
    keyObject = createPublicKey({ key: publicPart(k), format: 'jwk' });
  } catch {
    return undefined;
  }
  const family = familyOf(keyObject);
  if (!family) return undefined;
  if (family === 'RSA' && (keyObject.asymmetricKeyDetails?.modulusLength ?? 0) < MIN_RSA_BITS) return undefined;
  return {
    kid: typeof k.kid === 'string' ? k.kid : undefined,
    x5t: typeof k.x5t === 'string' ? k.x5t : undefined,
    alg: typeof k.alg === 'string' ? k.alg : undefined,
    issuer: typeof k.issuer === 'string' ? k.issuer : undefined,
    keyObject,
    thumbprint: keyThumbprint(keyObject),
    family,
  };
}

/** A provider's JWKS → the keys that can verify here (at most `maxKeys`). Throws when none can. */
export function parseKeySet(jwks: Record<string, unknown>, maxKeys: number): SigningKey[] {
  if (!Array.isArray(jwks.keys)) throw new Error('the JWKS has no "keys" array');
  const keys: SigningKey[] = [];
  for (const jwk of jwks.keys.slice(0, maxKeys)) {
    const key = importSigningKey(jwk);
    if (key) keys.push(key);
  }
  if (keys.length === 0) throw new Error('the JWKS holds no usable signing key');
  return keys;
}

/** True when `alg` is one we verify and it fits this key. */
export function algorithmFitsKey(alg: string, key: SigningKey): boolean {
  const spec = ALGS[alg];
  if (!spec) return false;
  if (key.alg !== undefined && key.alg !== alg) return false;
  if (spec.family === 'EdDSA') return key.family === 'Ed25519' || key.family === 'Ed448';
  return spec.family === key.family;
}

/** Checks a JWS signature. Call only after `algorithmFitsKey`. */
export function verifySignature(alg: string, key: SigningKey, signingInput: string, signature: Buffer): boolean {
  const spec = ALGS[alg];
  if (!spec) return false;
  const data = Buffer.from(signingInput, 'latin1');
  try {
    if (spec.pss) {
      return verify(
        spec.digest,
        data,
        { key: key.keyObject, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST },
        signature,
      );
    }
    if (spec.ecdsa) return verify(spec.digest, data, { key: key.keyObject, dsaEncoding: 'ieee-p1363' }, signature);
    return verify(spec.digest, data, key.keyObject, signature);
  } catch {
    return false;
  }
}

function publicPart(k: Record<string, unknown>): JsonWebKey {
  if (k.kty === 'RSA') return { kty: 'RSA', n: k.n as string, e: k.e as string };
  return { kty: k.kty as string, crv: k.crv as string, x: k.x as string, ...(k.kty === 'EC' ? { y: k.y as string } : {}) };
}

function familyOf(key: KeyObject): SigningKey['family'] | undefined {
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return 'RSA';
    case 'ed25519':
      return 'Ed25519';
    case 'ed448':
      return 'Ed448';
    case 'ec': {
      const curve = key.asymmetricKeyDetails?.namedCurve;
      if (curve === 'prime256v1') return 'P-256';
      if (curve === 'secp384r1') return 'P-384';
      if (curve === 'secp521r1') return 'P-521';
      return undefined;
    }
    default:
      return undefined;
  }
}
