/** Where the client interceptor gets the bearer token of each outgoing call. */

export interface TokenProvider {
  /** The token to send now (with or without a leading `Bearer `). Rejecting refuses the call locally. */
  getToken(): Promise<string>;
}

/** Always the same token (tests, a token injected by the platform). */
export function staticToken(token: string): TokenProvider {
  if (typeof token !== 'string' || token.trim() === '') throw new TypeError('staticToken: the token is empty');
  return { getToken: async () => token };
}

/** Whatever `source` returns, asked on every call: bring your own cache (MSAL, a sidecar, a mounted file). */
export function tokenFrom(source: () => string | Promise<string>): TokenProvider {
  if (typeof source !== 'function') throw new TypeError('tokenFrom: source must be a function returning the token');
  return { getToken: async () => source() };
}
