// A type-level test, checked by `tsc -p tsconfig.json` (make check), never run: the structural types of
// fromTokenCredential must accept every real @azure/core-auth TokenCredential and AccessToken, and refuse
// what is not one. A drift in either package fails the typecheck here.
import type { AccessToken, TokenCredential } from '@azure/core-auth';
import type {
  ClientSecretCredential,
  DefaultAzureCredential,
  ManagedIdentityCredential,
  WorkloadIdentityCredential,
} from '@azure/identity';
import type { AzureAccessToken, fromTokenCredential, TokenCredentialLike } from '../../src/client/index.js';

type Accepts<Target, Source extends Target> = Source;

export type CoreAuthCredential = Accepts<TokenCredentialLike, TokenCredential>;
export type CoreAuthToken = Accepts<AzureAccessToken, AccessToken>;
export type IdentityCredentials = Accepts<
  Parameters<typeof fromTokenCredential>[0],
  WorkloadIdentityCredential | ManagedIdentityCredential | DefaultAzureCredential | ClientSecretCredential
>;

// @ts-expect-error a getToken resolving to a bare string is not a TokenCredential
export type BareString = Accepts<TokenCredentialLike, { getToken: (scopes: string | string[]) => Promise<string> }>;
// @ts-expect-error a getToken that needs a single scope string cannot take the array fromTokenCredential passes
export type SingleScope = Accepts<TokenCredentialLike, { getToken: (scopes: string) => Promise<AccessToken | null> }>;
