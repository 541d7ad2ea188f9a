/**
 * One OAuth2 client credentials request (RFC 6749 §4.4) to a token endpoint, with a timeout. Failures are
 * coded: unreachable/5xx/429 (try again later) apart from a refusal (4xx: fix the credentials or scope).
 * Neither the secret nor the assertion ever appears in an error.
 */
import { decodeJwt } from 'jose';
import { GatehouseClientError } from '../errors.js';

export interface TokenRequest {
  readonly tokenEndpoint: string;
  /** The form: grant_type, scope/resource, and the client authentication fields. */
  readonly body: URLSearchParams;
  readonly headers: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  readonly fetch: typeof fetch;
}

export interface IssuedToken {
  readonly accessToken: string;
  readonly expiresInSeconds: number;
}

/** Used when the response names no lifetime and the token is not a JWT with `exp`. */
const FALLBACK_LIFETIME_SECONDS = 300;

export async function requestToken(request: TokenRequest): Promise<IssuedToken> {
  let res: Response;
  try {
    res = await request.fetch(request.tokenEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', ...request.headers },
      body: request.body.toString(),
      signal: AbortSignal.timeout(request.timeoutMs),
    });
  } catch (err) {
    const why = (err as Error).name === 'TimeoutError' ? `no answer within ${request.timeoutMs} ms` : 'unreachable';
    throw new GatehouseClientError('ERR_TOKEN_ENDPOINT_UNAVAILABLE', `token endpoint ${request.tokenEndpoint}: ${why}`, { cause: err });
  }
  const json = await res.json().catch(() => undefined);
  const fields = json && typeof json === 'object' ? (json as Record<string, unknown>) : {};
  if (res.status >= 500 || res.status === 429) {
    throw new GatehouseClientError('ERR_TOKEN_ENDPOINT_UNAVAILABLE', `token endpoint ${request.tokenEndpoint}: HTTP ${res.status}`);
  }
  if (!res.ok) {
    const oauthError = typeof fields.error === 'string' ? fields.error : undefined;
    const description = typeof fields.error_description === 'string' ? `: ${fields.error_description.slice(0, 300)}` : '';
    throw new GatehouseClientError(
      'ERR_TOKEN_REQUEST_REFUSED',
      `token request refused (HTTP ${res.status} ${oauthError ?? ''}${description})`,
      {
        oauthError,
      },
    );
  }
  const accessToken = fields.access_token;
  const tokenType = fields.token_type;
  if (typeof accessToken !== 'string' || accessToken === '') {
    throw new GatehouseClientError('ERR_TOKEN_RESPONSE_INVALID', 'the token response has no access_token');
  }
  if (tokenType !== undefined && String(tokenType).toLowerCase() !== 'bearer') {
    throw new GatehouseClientError('ERR_TOKEN_RESPONSE_INVALID', `the token response has token_type ${String(tokenType)}, not Bearer`);
  }
  return { accessToken, expiresInSeconds: lifetimeOf(fields.expires_in, accessToken) };
}

function lifetimeOf(expiresIn: unknown, accessToken: string): number {
  // Entra sends a number; some servers send a string of digits.
  const seconds = Number(expiresIn);
  if (expiresIn !== undefined && expiresIn !== '' && Number.isFinite(seconds) && seconds > 0) return seconds;
  try {
    const { exp, iat } = decodeJwt(accessToken);
    if (typeof exp === 'number') return Math.max(0, exp - (typeof iat === 'number' ? iat : Math.floor(Date.now() / 1000)));
  } catch {
    // An opaque token: nothing to read.
  }
  return FALLBACK_LIFETIME_SECONDS;
}
