/**
 * What the key cache knows of one key source: its metadata, when it last fetched (and failed), the cache
 * entries of its keys, its fetch in flight and its refresh timer. Plain data; the KeyCache owns the changes.
 */
import type { IssuerMetadata, KeySource } from './issuers/issuer.js';

export interface SourceState {
  readonly source: KeySource;
  metadata: IssuerMetadata | undefined;
  lastSuccessAt: number | undefined;
  lastAttemptAt: number | undefined;
  lastError: string | undefined;
  pending: Promise<boolean> | undefined;
  cacheKeys: string[];
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
    cacheKeys: [],
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
    a.expectedIssuer === b.expectedIssuer
  );
}

/** A source whose issuer string only its discovery document tells (Entra); an OIDC issuer's is configured. */
export function issuerFromDiscovery(state: SourceState): boolean {
  return state.source.expectedIssuer === undefined;
}
