/**
 * The token a provider keeps between requests, refreshed before it expires: concurrent callers share one refresh,
 * and a refresh that fails keeps handing out the kept token while it has life left (the token endpoint or the
 * credential being down for a moment costs no call). Used by clientCredentials and fromTokenCredential.
 */

export interface KeptToken {
  readonly token: string;
  readonly expiresAtMs: number;
  /** From here on, the next getToken refreshes (while still handing out this one if the refresh fails). */
  readonly refreshAtMs: number;
}

/** A kept token is never handed out with less life left than this. */
const MIN_REMAINING_MS = 5_000;

export interface KeptTokenSource {
  getToken(): Promise<string>;
  /** Drops the kept token: the next getToken refreshes. */
  invalidate(): void;
}

/** `refresh` obtains a new token (it may throw a GatehouseClientError); `clock` in epoch milliseconds. */
export function keptToken(refresh: () => Promise<KeptToken>, clock: () => number): KeptTokenSource {
  let held: KeptToken | undefined;
  let pending: Promise<KeptToken> | undefined;
  return {
    async getToken() {
      if (held && clock() < held.refreshAtMs) return held.token;
      const stale = held;
      pending ??= refresh()
        .then((fresh) => (held = fresh))
        .finally(() => {
          pending = undefined;
        });
      try {
        return (await pending).token;
      } catch (err) {
        if (stale && clock() < stale.expiresAtMs - MIN_REMAINING_MS) return stale.token;
        throw err;
      }
    },
    invalidate() {
      held = undefined;
    },
  };
}
