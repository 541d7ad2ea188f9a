/** gatehouse/client: what a microservice needs to call gatehouse, protect its gRPC server and call others. */
export { createAuthClient, type AuthClient, type AuthClientOptions, type CallOptions } from './auth-client.js';
export { DEFAULT_KEEPALIVE, DEFAULT_RETRY, type Keepalive, type LoadBalancing, type RetryPolicy } from './channel-config.js';
export type { CacheSize } from '../contract/token-cache.js';
export type { Allowed, Decision, Denied, Principal, ReasonKind, VerifyResult } from './decision.js';
/** A `gatehouse.v1.Reason` name: `TOKEN_EXPIRED`, `MISSING_ROLE`, ... */
export type { WireReason as Reason } from '../contract/reasons.js';
export { ClientErrorCodes, GatehouseClientError, isClientError, type ClientErrorCode } from './errors.js';
export { createServerInterceptor, DEFAULT_SKIPPED_METHODS, type ServerInterceptorOptions } from './server-interceptor.js';
export { createClientInterceptor, type ClientInterceptorOptions, type EgressCheckOptions } from './client-interceptor.js';
export { incomingCall, principalOf, type IncomingCall } from './incoming-call.js';
export { reasonOf, REASON_METADATA_KEY, type LocalReason } from './refusal.js';
export type { ClientLogger } from './logger.js';
export { installGrpcLogRedaction, type GrpcLogSink } from './grpc-log-redaction.js';
export type { ClientMetrics, Registry } from './metrics.js';
export { staticToken, tokenFrom, type TokenProvider } from './tokens/token-provider.js';
export { propagatedToken } from './tokens/propagated-token.js';
export { clientCredentials, type ClientCredentialsOptions, type ClientCredentialsProvider } from './tokens/client-credentials.js';
export {
  fromTokenCredential,
  type AzureAccessToken,
  type TokenCredentialLike,
  type TokenCredentialOptions,
  type TokenCredentialProvider,
} from './tokens/token-credential.js';
export type { CertificateCredential } from './tokens/client-assertion.js';
export type { SecretSource } from './tokens/secret-source.js';
