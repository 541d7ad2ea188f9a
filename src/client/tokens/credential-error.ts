/**
 * What went wrong inside a TokenCredential, as one of the client's codes, read from the shapes the Azure SDK
 * throws without importing it: `@azure/identity`'s `AuthenticationError` (`statusCode`, `errorResponse.error`)
 * and MSAL's `ServerError` (`errorCode`, `status`), often as the `cause` of an `AuthenticationRequiredError`;
 * a file it could not read (`ENOENT` on the federated token file) as an errno error in the chain. The
 * original error stays the `cause`; the message is the credential's first line, which names no secret.
 */
import { GatehouseClientError } from '../errors.js';

interface Shape {
  readonly name?: unknown;
  readonly message?: unknown;
  readonly cause?: unknown;
  readonly code?: unknown;
  readonly path?: unknown;
  readonly statusCode?: unknown;
  readonly status?: unknown;
  readonly errorCode?: unknown;
  readonly errorResponse?: { readonly error?: unknown };
}

const MAX_DEPTH = 4;

export function credentialError(err: unknown): GatehouseClientError {
  if (err instanceof GatehouseClientError) return err;
  const chain = causes(err);
  const summary = `${String(chain[0]?.name ?? 'Error')}: ${firstLine(chain[0]?.message)}`;
  const status = chain.map((e) => numberOf(e.statusCode) ?? numberOf(e.status)).find((s) => s !== undefined);
  const oauthError = chain.map(oauthErrorOf).find((e) => e !== undefined);
  if (oauthError !== undefined && !(status !== undefined && (status >= 500 || status === 429))) {
    return new GatehouseClientError('ERR_TOKEN_REQUEST_REFUSED', `the credential's token request was refused (${summary})`, {
      cause: err,
      oauthError,
    });
  }
  const unreadable = chain.find((e) => typeof e.code === 'string' && /^E[A-Z]+$/.test(e.code) && typeof e.path === 'string');
  if (unreadable) {
    return new GatehouseClientError('ERR_CLIENT_CREDENTIAL_UNREADABLE', `the credential cannot read a file it needs (${summary})`, {
      cause: err,
    });
  }
  return new GatehouseClientError('ERR_TOKEN_ENDPOINT_UNAVAILABLE', `the credential gave no token (${summary})`, { cause: err });
}

function causes(err: unknown): Shape[] {
  const chain: Shape[] = [];
  for (let e = err; typeof e === 'object' && e !== null && chain.length < MAX_DEPTH; e = (e as Shape).cause) chain.push(e as Shape);
  return chain;
}

function oauthErrorOf(e: Shape): string | undefined {
  const fromResponse = e.errorResponse?.error;
  if (typeof fromResponse === 'string' && fromResponse !== '') return fromResponse;
  // MSAL's ServerError carries the OAuth2 `error` of the token endpoint's answer as its errorCode.
  return e.name === 'ServerError' && typeof e.errorCode === 'string' && e.errorCode !== '' ? e.errorCode : undefined;
}

function numberOf(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function firstLine(message: unknown): string {
  return String(message ?? '')
    .split('\n')[0]!
    .slice(0, 300);
}
