/** One key source's metadata (discovery, unless configured outright) and its keys, prepared for verification. */
import { fetchJson, type Fetch } from './fetch-json.js';
import { metadataFromDiscovery, type IssuerMetadata, type KeySource } from './issuers/issuer.js';
import { parseKeySet, type SigningKey } from './signing-key.js';

export interface LoadOptions {
  readonly fetch: Fetch;
  readonly fetchTimeoutMs: number;
  readonly maxKeys: number;
}

export async function loadKeySet(source: KeySource, options: LoadOptions): Promise<{ metadata: IssuerMetadata; keys: SigningKey[] }> {
  const { fetch, fetchTimeoutMs, maxKeys } = options;
  // One deadline for discovery and JWKS together: a call waiting on this load waits at most keys.fetch_timeout.
  const signal = AbortSignal.timeout(fetchTimeoutMs);
  const metadata =
    source.staticMetadata ?? metadataFromDiscovery(await fetchJson(fetch, source.discoveryUrl!, fetchTimeoutMs, signal), source);
  const jwks = await fetchJson(fetch, metadata.jwksUri, fetchTimeoutMs, signal);
  return { metadata, keys: parseKeySet(jwks, maxKeys) };
}
