/**
 * The OAuth2 client credentials token provider (Entra ID v2: `scope=api://orders/.default`). It keeps the
 * token and refreshes it `refreshSkewMs` before it expires; concurrent callers share one request (single
 * flight). If a refresh fails while the old token is still good, the old one is used. The client proves who it
 * is with a secret (inline or a file re-read when it changes) or a certificate (`private_key_jwt`).
 */
import { isSecureUrl } from '../../contract/secure-url.js';
import { keptToken, type KeptToken } from './kept-token.js';
import { GatehouseClientError, optionsError } from '../errors.js';
import { clientAssertionSigner, CLIENT_ASSERTION_TYPE, type CertificateCredential } from './client-assertion.js';
import { isSecretSource, secretReader, type SecretReader, type SecretSource } from './secret-source.js';
import { requestToken, type IssuedToken } from './token-request.js';
import type { TokenProvider } from './token-provider.js';

export interface ClientCredentialsOptions {
  /** `https://login.microsoftonline.com/<tenant>/oauth2/v2.0/token`; plain http only on loopback. */
  readonly tokenEndpoint: string;
  readonly clientId: string;
  /** Entra v2: `api://orders/.default`. */
  readonly scope?: string;
  /** RFC 8707 resource indicator (Entra v1, other providers). */
  readonly resource?: string;
  /** The client secret, inline or `{ file }`. Exactly one of clientSecret and certificate. */
  readonly clientSecret?: SecretSource;
  /** How the secret is sent; default `client_secret_basic`. */
  readonly secretAuthMethod?: 'client_secret_basic' | 'client_secret_post';
  /** Certificate credential: a `private_key_jwt` client assertion. */
  readonly certificate?: CertificateCredential;
  /** Refresh this long before expiry; default 60 000 ms (at most half the token's lifetime). */
  readonly refreshSkewMs?: number;
  /** Per token request; default 10 000 ms. */
  readonly timeoutMs?: number;
  readonly fetch?: typeof fetch;
  /** Milliseconds since the epoch; tests pass a fake one. */
  readonly clock?: () => number;
}

export interface ClientCredentialsProvider extends TokenProvider {
  /** Drops the kept token: the next getToken asks the token endpoint. */
  invalidate(): void;
}

export function clientCredentials(options: ClientCredentialsOptions): ClientCredentialsProvider {
  checkOptions(options);
  const { clock = Date.now, refreshSkewMs = 60_000, timeoutMs = 10_000 } = options;
  const fetchFn = options.fetch ?? fetch;
  const secret = options.clientSecret === undefined ? undefined : secretReader(options.clientSecret, 'client secret');
  const assertion = options.certificate
    ? clientAssertionSigner(options.certificate, options.clientId, options.tokenEndpoint, clock)
    : undefined;

  async function authenticate(body: URLSearchParams, headers: Record<string, string>, reader: SecretReader | undefined): Promise<void> {
    if (assertion) {
      body.set('client_id', options.clientId);
      body.set('client_assertion_type', CLIENT_ASSERTION_TYPE);
      body.set('client_assertion', await assertion());
    } else if (reader) {
      const value = await reader.read();
      if (options.secretAuthMethod === 'client_secret_post') {
        body.set('client_id', options.clientId);
        body.set('client_secret', value);
      } else {
        // RFC 6749 §2.3.1: form-urlencode both parts before base64.
        const basic = `${formEncode(options.clientId)}:${formEncode(value)}`;
        headers.authorization = `Basic ${Buffer.from(basic).toString('base64')}`;
      }
    }
  }

  async function fetchToken(): Promise<IssuedToken> {
    const attempt = async (): Promise<IssuedToken> => {
      const body = new URLSearchParams({ grant_type: 'client_credentials' });
      if (options.scope) body.set('scope', options.scope);
      if (options.resource) body.set('resource', options.resource);
      const headers: Record<string, string> = {};
      await authenticate(body, headers, secret);
      return requestToken({ tokenEndpoint: options.tokenEndpoint, body, headers, timeoutMs, fetch: fetchFn });
    };
    try {
      return await attempt();
    } catch (err) {
      // A rotated secret file may have been rewritten in place without a visible change: read it once more.
      if (!(secret && err instanceof GatehouseClientError && err.oauthError === 'invalid_client')) throw err;
      secret.forget();
      return attempt();
    }
  }

  async function refresh(): Promise<KeptToken> {
    const issued = await fetchToken();
    const now = clock();
    const lifetimeMs = issued.expiresInSeconds * 1000;
    const skew = Math.min(refreshSkewMs, lifetimeMs / 2);
    return { token: issued.accessToken, expiresAtMs: now + lifetimeMs, refreshAtMs: now + lifetimeMs - skew };
  }

  return keptToken(refresh, clock);
}

function formEncode(value: string): string {
  return encodeURIComponent(value).replace(/%20/g, '+');
}

function checkOptions(options: ClientCredentialsOptions): void {
  const where = 'clientCredentials';
  if (typeof options.tokenEndpoint !== 'string' || !URL.canParse(options.tokenEndpoint)) {
    throw optionsError(where, 'tokenEndpoint must be a URL');
  }
  if (!isSecureUrl(options.tokenEndpoint)) {
    throw optionsError(where, `tokenEndpoint must be https (plain http only on loopback): ${options.tokenEndpoint}`);
  }
  if (typeof options.clientId !== 'string' || options.clientId === '') throw optionsError(where, 'clientId is required');
  const hasSecret = options.clientSecret !== undefined;
  if (hasSecret === (options.certificate !== undefined)) {
    throw optionsError(where, 'give exactly one of clientSecret and certificate');
  }
  if (hasSecret && !isSecretSource(options.clientSecret)) throw optionsError(where, 'clientSecret must be a non-empty string or { file }');
  if (options.certificate && !(isSecretSource(options.certificate.certificate) && isSecretSource(options.certificate.privateKey))) {
    throw optionsError(where, 'certificate needs certificate and privateKey, each a PEM string or { file }');
  }
  for (const key of ['refreshSkewMs', 'timeoutMs'] as const) {
    const value = options[key];
    if (value !== undefined && !(Number.isFinite(value) && value >= 0))
      throw optionsError(where, `${key} must be a number of milliseconds >= 0`);
  }
  const method = options.secretAuthMethod;
  if (method !== undefined && method !== 'client_secret_basic' && method !== 'client_secret_post') {
    throw optionsError(where, 'secretAuthMethod must be client_secret_basic or client_secret_post');
  }
}
