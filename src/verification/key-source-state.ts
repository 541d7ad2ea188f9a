/**
 * What the key cache knows of one key source: its metadata, when it last fetched (and failed), the cache
 * entries of its keys, its fetch in flight and its refresh timer. Plain data; the KeyCache owns the changes.
 */
import { TokenError } from './errors.js';
import type { IssuerMetadata, KeySource } from './issuers/issuer.js';

export interface SourceState {
  readonly source: KeySource;
  metadata: IssuerMetadata | undefined;
  lastSuccessAt: number | undefined;
  lastAttemptAt: number | undefined;
  lastError: string | undefined;
  pending: Promise<boolean> | undefined;
  /** The key cache entries of this source's keys: cache key (a name: kid, x5t, or the only key) → key identity (keyIdentity). */
  cacheKeys: Map<string, string>;
  keyCount: number;
  consecutiveFailures: number;
  timer: NodeJS.Timeout | undefined;
}

/** A source's health, for readiness and diagnostics. */
export interface SourceStatus {
  readonly id: string;
  readonly issuerId: string;
  /** Has keys young enough to use. */
  readonly usable: boolean;
  /** Its first fetch has not finished yet. */
  readonly loading: boolean;
  /** Keys are in use although the last refresh failed or is overdue. */
  readonly stale: boolean;
  readonly lastSuccessAt: number | undefined;
  readonly lastError: string | undefined;
}

export function newSourceState(source: KeySource): SourceState {
  return {
    source,
    metadata: source.staticMetadata,
    lastSuccessAt: undefined,
    lastAttemptAt: undefined,
    lastError: undefined,
    pending: undefined,
    cacheKeys: new Map(),
    keyCount: 0,
    consecutiveFailures: 0,
    timer: undefined,
  };
}

/** Same place, same rules for keys: its cached keys and metadata stay valid. */
export function sameSource(a: KeySource, b: KeySource): boolean {
  return (
    a.discoveryUrl === b.discoveryUrl &&
    JSON.stringify(a.staticMetadata) === JSON.stringify(b.staticMetadata) &&
    a.expectedIssuer === b.expectedIssuer &&
    JSON.stringify(a.jwksHosts) === JSON.stringify(b.jwksHosts)
  );
}

/** A source whose issuer string only its discovery document tells (Entra); an OIDC issuer's is configured. */
export function issuerFromDiscovery(state: SourceState): boolean {
  return state.source.expectedIssuer === undefined;
}

/** Why a token's key cannot be had: KEYS_UNAVAILABLE (retry later) or KEY_NOT_FOUND. */
export function missError(state: SourceState, usable: boolean, hint: { kid: string | undefined; x5t: string | undefined }): TokenError {
  // The provider failed its last fetch: the key may be new (a rotation) and simply not fetchable yet, so
  // the honest answer is "retry later", not "no such key".
  if (!usable || state.consecutiveFailures > 0) {
    const why = state.lastError ? `: ${state.lastError}` : '';
    return new TokenError(
      'KEYS_UNAVAILABLE',
      `the signing keys of issuer "${state.source.issuerId}" cannot be fetched right now; retry shortly`,
      `no usable keys for ${state.source.id}${why}`,
    );
  }
  const named = hint.kid !== undefined ? `kid "${hint.kid}"` : hint.x5t !== undefined ? `x5t "${hint.x5t}"` : 'no kid or x5t';
  return new TokenError(
    'KEY_NOT_FOUND',
    `the token's signing key (${named}) is not among the keys published by issuer "${state.source.issuerId}"`,
  );
}
