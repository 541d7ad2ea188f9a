/**
 * Coded errors of the client library. Switch on `code`, never on the message. Messages never contain a
 * token, a secret or a private key.
 */

export const ClientErrorCodes = [
  /** An option is missing or unsafe; thrown at construction, naming the option. */
  'ERR_CLIENT_OPTIONS',
  /**
   * gatehouse was provably never asked: the channel had no connection to it for the whole call (connection
   * refused, no HTTP/2 connection established, name not resolved). The only error `failOpen` acts on.
   */
  'ERR_GATEHOUSE_UNREACHABLE',
  /** gatehouse did not answer within the deadline. The question may have reached it: never fails open. */
  'ERR_GATEHOUSE_TIMEOUT',
  /**
   * The call failed without an answer after it may have reached gatehouse (the connection dropped mid-call,
   * the call was cancelled, or something in between answered UNAVAILABLE). Never fails open.
   */
  'ERR_GATEHOUSE_UNAVAILABLE',
  /** gatehouse answered the call with an error status (a bad request, an internal error). */
  'ERR_GATEHOUSE_CALL_FAILED',
  /** The AuthClient was closed: every later call is refused (the interceptors answer UNAVAILABLE). Never fails open. */
  'ERR_CLIENT_CLOSED',
  /**
   * The token endpoint could not be reached, timed out, or answered 5xx; or a TokenCredential failed for any
   * other reason (its error is the `cause`).
   */
  'ERR_TOKEN_ENDPOINT_UNAVAILABLE',
  /**
   * The token endpoint refused the request (wrong secret, unknown client, bad scope, no matching federated
   * credential): `oauthError` says why.
   */
  'ERR_TOKEN_REQUEST_REFUSED',
  /** The token endpoint (or a TokenCredential) answered with something that is not a valid bearer access token. */
  'ERR_TOKEN_RESPONSE_INVALID',
  /**
   * The client secret, certificate, private key or (inside a TokenCredential) federated token file could not
   * be read, or the key does not match the certificate.
   */
  'ERR_CLIENT_CREDENTIAL_UNREADABLE',
  /** A propagated token was asked for outside an incoming call protected by the server interceptor. */
  'ERR_NO_INCOMING_TOKEN',
] as const;

export type ClientErrorCode = (typeof ClientErrorCodes)[number];

export interface ClientErrorDetails {
  readonly cause?: unknown;
  /** The gRPC status code of a failed gatehouse call. */
  readonly grpcCode?: number;
  /** The OAuth2 `error` of a refused token request (`invalid_client`, `invalid_scope`, ...). */
  readonly oauthError?: string;
}

export class GatehouseClientError extends Error {
  override readonly name = 'GatehouseClientError';
  readonly grpcCode: number | undefined;
  readonly oauthError: string | undefined;

  constructor(
    readonly code: ClientErrorCode,
    message: string,
    details: ClientErrorDetails = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.grpcCode = details.grpcCode;
    this.oauthError = details.oauthError;
  }
}

export function isClientError(err: unknown, code?: ClientErrorCode): err is GatehouseClientError {
  return err instanceof GatehouseClientError && (code === undefined || err.code === code);
}

/** Thrown by option validation: `createAuthClient: deadlineMs must be a positive number of milliseconds`. */
export function optionsError(where: string, message: string): GatehouseClientError {
  return new GatehouseClientError('ERR_CLIENT_OPTIONS', `${where}: ${message}`);
}
