/**
 * Any Azure `TokenCredential` as a token provider: `WorkloadIdentityCredential` (AKS workload identity: no
 * secret at all), `ManagedIdentityCredential`, `DefaultAzureCredential`, `ClientSecretCredential`, ... The type
 * is structural (the one method of `@azure/core-auth`'s interface), so gatehouse/client needs no Azure package
 * at run time or in its type declarations. Same behaviour as `clientCredentials`: the token is kept and
 * refreshed `refreshSkewMs` before it expires, or from the credential's `refreshAfterTimestamp` when that is
 * earlier; concurrent callers share one refresh; a failed refresh while the kept token is still good keeps it.
 */
import { GatehouseClientError, optionsError } from '../errors.js';
import { keptToken, type KeptToken } from './kept-token.js';
import { credentialError } from './credential-error.js';
import type { TokenProvider } from './token-provider.js';

/** The token a credential returns: `@azure/core-auth`'s `AccessToken`. */
export interface AzureAccessToken {
  readonly token: string;
  /** Milliseconds since the epoch. */
  readonly expiresOnTimestamp: number;
  /** Milliseconds since the epoch: when the credential advises a refresh (Entra's `refresh_in`). */
  readonly refreshAfterTimestamp?: number;
  /** `Bearer` (or absent); a `pop` token cannot be sent as a bearer token. */
  readonly tokenType?: string;
}

/** The shape of `@azure/core-auth`'s `TokenCredential`; every `@azure/identity` credential has it. */
export interface TokenCredentialLike {
  getToken: (scopes: string | string[], options?: { abortSignal?: AbortSignal }) => Promise<AzureAccessToken | null>;
}

export interface TokenCredentialOptions {
  /** Refresh this long before expiry; default 60 000 ms (at most half the token's remaining life). */
  readonly refreshSkewMs?: number;
  /** Per getToken of the credential (passed as its abortSignal, and enforced); default 10 000 ms. */
  readonly timeoutMs?: number;
  /** Milliseconds since the epoch; tests pass a fake one. */
  readonly clock?: () => number;
}

export interface TokenCredentialProvider extends TokenProvider {
  /** Drops the kept token: the next getToken asks the credential. */
  invalidate(): void;
}

/**
 * A provider of tokens for `scope` (Entra: `api://orders/.default`) from `credential`:
 * `fromTokenCredential(new WorkloadIdentityCredential(), 'api://orders/.default')`.
 */
export function fromTokenCredential(
  credential: TokenCredentialLike,
  scope: string | readonly string[],
  options: TokenCredentialOptions = {},
): TokenCredentialProvider {
  checkOptions(credential, scope, options);
  const { clock = Date.now, refreshSkewMs = 60_000, timeoutMs = 10_000 } = options;
  const scopes = typeof scope === 'string' ? [scope] : [...scope];

  async function ask(): Promise<AzureAccessToken | null> {
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    // A credential that ignores its abortSignal must not hold the call past the timeout either.
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        controller.abort();
        reject(new GatehouseClientError('ERR_TOKEN_ENDPOINT_UNAVAILABLE', `the credential gave no token within ${timeoutMs} ms`));
      }, timeoutMs);
    });
    try {
      return await Promise.race([credential.getToken([...scopes], { abortSignal: controller.signal }), timedOut]);
    } catch (err) {
      throw credentialError(err);
    } finally {
      clearTimeout(timer);
    }
  }

  async function refresh(): Promise<KeptToken> {
    const issued = await ask();
    const now = clock();
    if (!issued || typeof issued.token !== 'string' || issued.token === '') {
      throw new GatehouseClientError('ERR_TOKEN_RESPONSE_INVALID', 'the credential returned no token');
    }
    if (issued.tokenType !== undefined && issued.tokenType.toLowerCase() !== 'bearer') {
      throw new GatehouseClientError('ERR_TOKEN_RESPONSE_INVALID', `the credential returned a ${issued.tokenType} token, not Bearer`);
    }
    const expiresAtMs = issued.expiresOnTimestamp;
    if (!Number.isFinite(expiresAtMs) || expiresAtMs <= now) {
      throw new GatehouseClientError('ERR_TOKEN_RESPONSE_INVALID', 'the credential returned a token that has already expired');
    }
    const skew = Math.min(refreshSkewMs, (expiresAtMs - now) / 2);
    // An advice already past (a credential handing back its cached token late) is ignored: heeding it would
    // ask the credential again on every call.
    const advised = issued.refreshAfterTimestamp;
    const refreshAtMs = Math.min(expiresAtMs - skew, advised !== undefined && advised > now ? advised : Infinity);
    return { token: issued.token, expiresAtMs, refreshAtMs };
  }

  return keptToken(refresh, clock);
}

function checkOptions(credential: TokenCredentialLike, scope: string | readonly string[], options: TokenCredentialOptions): void {
  const where = 'fromTokenCredential';
  if (typeof (credential as Partial<TokenCredentialLike> | undefined)?.getToken !== 'function') {
    throw optionsError(where, 'credential must be a TokenCredential (an object with getToken(scopes, options))');
  }
  const scopes = typeof scope === 'string' ? [scope] : scope;
  if (!Array.isArray(scopes) || scopes.length === 0 || !scopes.every((s) => typeof s === 'string' && s.trim() !== '')) {
    throw optionsError(where, 'scope must be a non-empty string or array of them, e.g. api://orders/.default');
  }
  const { refreshSkewMs, timeoutMs } = options;
  if (refreshSkewMs !== undefined && !(Number.isFinite(refreshSkewMs) && refreshSkewMs >= 0)) {
    throw optionsError(where, 'refreshSkewMs must be a number of milliseconds >= 0');
  }
  if (timeoutMs !== undefined && !(Number.isFinite(timeoutMs) && timeoutMs > 0)) {
    throw optionsError(where, 'timeoutMs must be a positive number of milliseconds');
  }
}
