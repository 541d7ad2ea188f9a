/**
 * Raw token → Principal, or a coded TokenError. Guard clauses in the order that keeps forged tokens cheap and
 * their reasons honest: size, shape, header, issuer, key, signature, then tenant, time, audience, version.
 */
import { stripBearer } from '../contract/bearer.js';
import { checkAudience, checkTime, checkVersion } from './claims.js';
import type { Clock } from './clock.js';
import { TokenError } from './errors.js';
import { TENANT_TEMPLATE, type KeySource } from './issuers/issuer.js';
import type { IssuerRegistry } from './issuers/registry.js';
import { parseJws, type ParsedJws } from './jws.js';
import type { KeyCache, KeyHint } from './key-cache.js';
import type { Principal } from '../contract/principal.js';
import { principalFromClaims } from './principal-from-claims.js';
import { algorithmFitsKey, verifySignature, type SigningKey } from './signing-key.js';

export interface VerificationContext {
  readonly registry: IssuerRegistry;
  readonly keyCache: KeyCache;
  readonly clock: Clock;
  readonly clockSkewMs: number;
  readonly maxTokenBytes: number;
}

/** Header parameters that name a key. Keys come only from the configured issuer, never from the token. */
const EMBEDDED_KEY_PARAMS = ['jku', 'x5u', 'jwk', 'x5c'] as const;

/** Raw token → Principal; every refusal a rejected TokenError. */
export async function verifyToken(context: VerificationContext, rawToken: string): Promise<Principal> {
  return verifyTokenNow(context, rawToken);
}

/**
 * {@link verifyToken}, answered synchronously when nothing needs fetching (the issuer routed and its key held: the
 * common case), with no promise and no microtask; a refusal found then is thrown. Else a promise, as verifyToken.
 */
export function verifyTokenNow(context: VerificationContext, rawToken: string): Principal | Promise<Principal> {
  // Bytes, as configured (a character may take several: at most 3 per UTF-16 unit); the length check first spares
  // the scan for huge input, and the scan is needed only when the characters could outnumber the bound's third.
  const { maxTokenBytes } = context;
  if (rawToken.length > maxTokenBytes || (rawToken.length * 3 > maxTokenBytes && Buffer.byteLength(rawToken, 'utf8') > maxTokenBytes)) {
    throw new TokenError('TOKEN_TOO_LARGE', `the token is larger than ${maxTokenBytes} bytes`);
  }
  const token = stripBearer(rawToken);
  if (!token) throw new TokenError('TOKEN_MISSING', 'no bearer token: send "authorization: Bearer <token>"');

  const jws = parseJws(token);
  const { header, payload } = jws;
  const alg = checkHeader(header);
  if (jws.signature.length === 0)
    throw new TokenError('TOKEN_MALFORMED', 'the token has no signature (unsigned tokens are never accepted)');

  const iss = payload.iss;
  if (typeof iss !== 'string' || !iss) throw new TokenError('CLAIMS_INVALID', 'the token has no "iss" claim');
  const source = routeNow(context, iss, payload.tid, payload.aud);
  if (source) return verifyRouted(context, source, jws, alg);
  return routeIssuer(context, iss, payload.tid, payload.aud).then((routed) => verifyRouted(context, routed, jws, alg));
}

/** Once routed, a refusal is attributed to the configured issuer (logs and metrics by issuer). */
function verifyRouted(context: VerificationContext, source: KeySource, jws: ParsedJws, alg: string): Principal | Promise<Principal> {
  try {
    // A held key answers without a wait: the common case awaits nothing (and allocates nothing for the refusals).
    const verified = verifyForSource(context, source, jws, alg);
    return verified instanceof Promise ? verified.catch((err: unknown) => attributed(err, source)) : verified;
  } catch (err) {
    return attributed(err, source);
  }
}

function attributed(err: unknown, source: KeySource): never {
  if (err instanceof TokenError) err.issuerId ??= source.issuerId;
  throw err;
}

function verifyForSource(context: VerificationContext, source: KeySource, jws: ParsedJws, alg: string): Principal | Promise<Principal> {
  const { header } = jws;
  if (!source.algorithms.has(alg)) {
    throw new TokenError('ALGORITHM_NOT_ALLOWED', `algorithm ${alg} is not allowed for issuer "${source.issuerId}"`);
  }
  const hint = {
    kid: typeof header.kid === 'string' ? header.kid : undefined,
    x5t: typeof header.x5t === 'string' ? header.x5t : undefined,
  };
  const key = context.keyCache.heldKey(source.id, hint);
  if (!key) return verifyFetched(context, source, jws, alg, hint);
  const problem = signatureProblem(alg, key, jws);
  return problem ? verifyFetched(context, source, jws, alg, hint, { key, problem }) : checkClaims(context, source, jws);
}

/** The key was not held (fetched now), or did not verify (`held`: refetched once). */
async function verifyFetched(
  context: VerificationContext,
  source: KeySource,
  jws: ParsedJws,
  alg: string,
  hint: KeyHint,
  held?: { readonly key: SigningKey; readonly problem: TokenError },
): Promise<Principal> {
  const key = held?.key ?? (await context.keyCache.getKey(source.id, hint));
  const problem = held ? held.problem : signatureProblem(alg, key, jws);
  if (problem) {
    // The provider may have replaced the key under the same name (a rotation, or a leaked key withdrawn):
    // one refetch under the unknown-kid cooldown, and one retry if the name now holds other key material.
    const replacement = await context.keyCache.replacementKey(source.id, hint, key);
    const retried = replacement && signatureProblem(alg, replacement, jws);
    if (!replacement || retried) throw retried || problem;
  }
  return checkClaims(context, source, jws);
}

/** The signature holds: tenant, time, audience and version, then the principal. */
function checkClaims(context: VerificationContext, source: KeySource, jws: ParsedJws): Principal {
  const { payload } = jws;
  checkTenant(payload.tid, source);
  const expiresAt = checkTime(payload, source, {
    nowSeconds: context.clock() / 1000,
    skewSeconds: context.clockSkewMs / 1000,
  });
  checkAudience(payload, source);
  checkVersion(payload, source);
  return principalFromClaims(payload, source, expiresAt);
}

/** Why `key` does not verify this token's signature, or undefined when it does. */
function signatureProblem(alg: string, key: SigningKey, jws: ParsedJws): TokenError | undefined {
  const { payload, signingInput, signature } = jws;
  if (!algorithmFitsKey(alg, key)) return new TokenError('ALGORITHM_NOT_ALLOWED', `algorithm ${alg} does not fit the issuer's key`);
  // Entra v2 keys say which issuer they sign for: a consumer-tenant key signs only consumer tokens.
  // `tid` is unchecked yet: only a string may fill the template (String() of a hostile object throws).
  const tid = typeof payload.tid === 'string' ? payload.tid : '';
  if (key.issuer !== undefined && key.issuer.replace(TENANT_TEMPLATE, tid) !== payload.iss) {
    return new TokenError('SIGNATURE_INVALID', 'the token is signed by a key that may not sign for its issuer');
  }
  if (!verifySignature(alg, key, signingInput, signature))
    return new TokenError('SIGNATURE_INVALID', 'the token signature does not verify');
  return undefined;
}

function checkHeader(header: Readonly<Record<string, unknown>>): string {
  const alg = header.alg;
  if (typeof alg !== 'string' || !alg) throw new TokenError('TOKEN_MALFORMED', 'the token header has no "alg"');
  // In any case: "None" or "hs256" are no algorithm we verify either, and are refused as what they try to be.
  if (alg.toLowerCase() === 'none' || /^hs/i.test(alg)) {
    throw new TokenError('ALGORITHM_NOT_ALLOWED', `algorithm ${alg} is never accepted`);
  }
  // Microsoft Graph access tokens carry a nonce in the header and are meant for Graph alone.
  if ('nonce' in header) {
    throw new TokenError('TOKEN_NOT_FOR_THIS_API', 'this token is for another API (Microsoft Graph); request a token for this API');
  }
  for (const param of EMBEDDED_KEY_PARAMS) {
    if (param in header) {
      throw new TokenError('TOKEN_MALFORMED', `the token header names its own key ("${param}"); keys come only from the issuer`);
    }
  }
  if ('crit' in header) throw new TokenError('TOKEN_MALFORMED', 'the token header has critical extensions ("crit") we do not support');
  if (header.kid !== undefined && typeof header.kid !== 'string')
    throw new TokenError('TOKEN_MALFORMED', 'the token header "kid" is not a string');
  if (header.x5t !== undefined && typeof header.x5t !== 'string')
    throw new TokenError('TOKEN_MALFORMED', 'the token header "x5t" is not a string');
  return alg;
}

/** The source a token's issuer routes to, from what is known now. */
function routeNow(context: VerificationContext, iss: string, tid: unknown, aud: unknown): KeySource | undefined {
  const { keyCache } = context;
  return context.registry.route(iss, tid, aud, (id) => keyCache.metadata(id));
}

/** No known source issues `iss`: a source not loaded yet may be the one (each tried once per cooldown). */
async function routeIssuer(context: VerificationContext, iss: string, tid: unknown, aud: unknown): Promise<KeySource> {
  const { keyCache } = context;
  if (keyCache.hasUnloadedSources()) {
    // A provider that was down may be the one this token is from: try those once per cooldown.
    await keyCache.loadMissing();
    const retried = routeNow(context, iss, tid, aud);
    if (retried) return retried;
    if (keyCache.hasUnloadedSources()) {
      throw new TokenError(
        'KEYS_UNAVAILABLE',
        "an issuer's metadata cannot be fetched right now, so the token's issuer cannot be checked; retry shortly",
      );
    }
  }
  throw new TokenError('ISSUER_NOT_TRUSTED', `issuer ${JSON.stringify(iss)} is not trusted here`);
}

function checkTenant(tid: unknown, source: KeySource): void {
  if (source.kind !== 'entra') return;
  if (typeof tid !== 'string' || !tid) throw new TokenError('CLAIMS_INVALID', 'the token has no "tid" claim');
  const tenant = tid.toLowerCase();
  if (source.tenant !== undefined && tenant !== source.tenant) {
    throw new TokenError('TENANT_NOT_ALLOWED', `tenant ${tid} is not allowed for issuer "${source.issuerId}"`);
  }
  if (source.excludedTenants?.has(tenant)) {
    throw new TokenError('TENANT_NOT_ALLOWED', `issuer "${source.issuerId}" accepts work and school accounts only, not personal accounts`);
  }
  const allowed = source.allowedTenants;
  if (allowed !== undefined && allowed !== '*' && !allowed.has(tenant)) {
    throw new TokenError('TENANT_NOT_ALLOWED', `tenant ${tid} is not allowed for issuer "${source.issuerId}"`);
  }
}
