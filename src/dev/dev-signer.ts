/**
 * The signing half of the dev issuer: one RS256 key generated at start, its public JWKS, and tokens shaped
 * like Entra ID v2 access tokens (scp, roles, groups, azp, oid, tid, idtyp) so rules behave as in production.
 */
import { randomUUID } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';

/** The tenant id dev tokens carry unless told otherwise. Not a real tenant. */
export const DEV_TENANT_ID = '0d3f0000-0000-4000-8000-000000000001';

/** The client id (`azp`) of delegated tokens minted by `gatehouse token` without `--app`. */
export const DEV_CLI_CLIENT_ID = 'gatehouse-dev-cli';

/** Longest lifetime a dev token may have; a negative lifetime gives an already-expired token (for tests). */
export const MAX_TTL_SECONDS = 7 * 24 * 3600;

/** What `POST /mint` accepts (and `DevIssuer.mint`). Absent lists become absent claims, as Entra does. */
export interface MintOptions {
  readonly sub: string;
  readonly roles?: readonly string[];
  readonly scopes?: readonly string[];
  readonly groups?: readonly string[];
  /** Default `api://orders`. */
  readonly aud?: string;
  /** An application token (client credentials): `idtyp: app`, `azp` = `sub`. Default: a user token. */
  readonly app?: boolean;
  /** Default 3600. */
  readonly ttlSeconds?: number;
  /** Default {@link DEV_TENANT_ID}. */
  readonly tid?: string;
  /** Default: `sub` for app tokens, {@link DEV_CLI_CLIENT_ID} for user tokens. */
  readonly azp?: string;
}

export interface DevSigner {
  readonly kid: string;
  readonly jwks: { keys: JWK[] };
  sign(issuer: string, options: MintOptions): Promise<string>;
}

export async function createDevSigner(): Promise<DevSigner> {
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  const publicJwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(publicJwk);
  const jwks = { keys: [{ ...publicJwk, kid, alg: 'RS256', use: 'sig' }] };
  return { kid, jwks, sign: (issuer, options) => signToken(privateKey, kid, issuer, options) };
}

async function signToken(key: CryptoKey, kid: string, issuer: string, options: MintOptions): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const app = options.app === true;
  const claims: Record<string, unknown> = {
    azp: options.azp ?? (app ? options.sub : DEV_CLI_CLIENT_ID),
    oid: options.sub,
    tid: options.tid ?? DEV_TENANT_ID,
    idtyp: app ? 'app' : 'user',
  };
  if (options.scopes?.length) claims.scp = options.scopes.join(' ');
  if (options.roles?.length) claims.roles = [...options.roles];
  if (options.groups?.length) claims.groups = [...options.groups];
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid })
    .setIssuer(issuer)
    .setSubject(options.sub)
    .setAudience(options.aud ?? 'api://orders')
    .setIssuedAt(now)
    .setNotBefore(now)
    .setExpirationTime(now + (options.ttlSeconds ?? 3600))
    .setJti(randomUUID())
    .sign(key);
}

/** Checks a `POST /mint` body; returns the options, or a message saying which field is wrong. */
export function parseMintBody(body: unknown): MintOptions | string {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return 'the body must be a JSON object';
  const b = body as Record<string, unknown>;
  if (typeof b.sub !== 'string' || b.sub === '' || b.sub.length > 256) return 'sub: required, a string of 1-256 characters';
  for (const name of ['roles', 'scopes', 'groups'] as const) {
    const list = b[name];
    if (list !== undefined && !(Array.isArray(list) && list.every((v) => typeof v === 'string' && v !== ''))) {
      return `${name}: must be a list of non-empty strings`;
    }
  }
  for (const name of ['aud', 'tid', 'azp'] as const) {
    if (b[name] !== undefined && (typeof b[name] !== 'string' || b[name] === '')) return `${name}: must be a non-empty string`;
  }
  if (b.app !== undefined && typeof b.app !== 'boolean') return 'app: must be true or false';
  const ttl = b.ttlSeconds;
  if (ttl !== undefined && !(Number.isInteger(ttl) && Math.abs(ttl as number) <= MAX_TTL_SECONDS)) {
    return `ttlSeconds: must be a whole number of seconds, at most ${MAX_TTL_SECONDS} either way`;
  }
  return b as unknown as MintOptions;
}
