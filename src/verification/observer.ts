/**
 * How the core reports what it does, without importing any metrics or logging code.
 * Telemetry implements this and is handed in; every method is optional to call and cheap.
 */
export interface VerificationObserver {
  /** A key lookup: `hit` when a cached key served it. */
  keyLookup(issuerId: string, result: 'hit' | 'miss'): void;
  /** A JWKS or discovery fetch finished. */
  keyFetch(issuerId: string, outcome: 'success' | 'failure', seconds: number, error?: string): void;
  /** An unknown-kid refetch was skipped because the cooldown had not passed. */
  refetchSuppressed(issuerId: string): void;
  /** The issuer's key set changed state: how many keys it holds, whether they are stale, and since when. */
  keySetState(issuerId: string, state: { keys: number; stale: boolean; fetchedAt: number }): void;
}

export const noopObserver: VerificationObserver = {
  keyLookup() {},
  keyFetch() {},
  refetchSuppressed() {},
  keySetState() {},
};

/** One observer that reports to each of `observers` in turn (logging and metrics, say). */
export function observeAll(...observers: VerificationObserver[]): VerificationObserver {
  return {
    keyLookup: (...args) => observers.forEach((o) => o.keyLookup(...args)),
    keyFetch: (...args) => observers.forEach((o) => o.keyFetch(...args)),
    refetchSuppressed: (...args) => observers.forEach((o) => o.refetchSuppressed(...args)),
    keySetState: (...args) => observers.forEach((o) => o.keySetState(...args)),
  };
}
