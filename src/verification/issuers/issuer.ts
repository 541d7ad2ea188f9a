/**
 * A key source: one place a configured issuer publishes its metadata and keys. An OIDC issuer has one;
 * an Entra issuer has one per accepted token version (v1 and v2 each have their own discovery document).
 */
import type { Algorithm } from '../../config/schema.js';
import { isSecureUrl } from '../../contract/secure-url.js';

export interface IssuerMetadata {
  /** The `issuer` of the discovery document; for Entra multi-tenant, a `{tenantid}` template. */
  readonly issuer: string;
  readonly jwksUri: string;
  /** The discovery document's `authorization_endpoint`, where a claims challenge sends the user; absent if none. */
  readonly authorizationEndpoint?: string;
}

export interface KeySource {
  /** Unique across sources: the issuer id, plus `/v1` or `/v2` for Entra. */
  readonly id: string;
  /** The configured issuer's id. */
  readonly issuerId: string;
  readonly kind: 'entra' | 'oidc';
  /** Entra token version this source serves ("1.0" / "2.0"); empty for OIDC. */
  readonly tokenVersion: '1.0' | '2.0' | '';
  readonly algorithms: ReadonlySet<Algorithm | string>;
  readonly audiences: ReadonlySet<string>;
  /** For Entra multi-tenant: the tenants accepted (lowercase), or '*' for all. Undefined: single tenant. */
  readonly allowedTenants: ReadonlySet<string> | '*' | undefined;
  /** For Entra single tenant (and `consumers`): the tenant id (lowercase). */
  readonly tenant: string | undefined;
  /** For Entra `organizations`: tenants refused whatever allowed_tenants says (personal accounts). */
  readonly excludedTenants?: ReadonlySet<string>;
  /** `issuers[].jwks_hosts`: hosts besides the discovery URL's own that its `jwks_uri` may name (`host` or `host:port`). */
  readonly jwksHosts: readonly string[];
  /** The discovery URL, or undefined when the issuer and JWKS URI are configured outright. */
  readonly discoveryUrl: string | undefined;
  /** Metadata known without discovery (an OIDC issuer with `jwks_uri` configured). */
  readonly staticMetadata: IssuerMetadata | undefined;
  /** For OIDC: the configured issuer, which discovery must confirm and tokens must carry exactly. */
  readonly expectedIssuer: string | undefined;
  /** For Entra: the authorize endpoint derived from the authority, used when discovery names none. */
  readonly authorizationEndpoint?: string;
}

export const TENANT_TEMPLATE = '{tenantid}';

/** Parses a discovery document into metadata, checking what OIDC Discovery requires of it. */
export function metadataFromDiscovery(doc: Record<string, unknown>, source: KeySource): IssuerMetadata {
  const issuer = doc.issuer;
  const jwksUri = doc.jwks_uri;
  if (typeof issuer !== 'string' || !issuer) throw new Error(`discovery document has no issuer (${source.discoveryUrl})`);
  if (typeof jwksUri !== 'string' || !jwksUri) throw new Error(`discovery document has no jwks_uri (${source.discoveryUrl})`);
  if (source.expectedIssuer !== undefined && issuer !== source.expectedIssuer) {
    // OIDC Discovery 4.3: the issuer in the document must equal the one configured, or an attacker-controlled
    // document could make us trust another issuer.
    throw new Error(`discovery issuer "${issuer}" differs from the configured "${source.expectedIssuer}"`);
  }
  if (!isSecureUrl(jwksUri)) throw new Error(`discovery jwks_uri must be https (http only on loopback): ${jwksUri}`);
  if (!jwksHostAllowed(jwksUri, source)) {
    const own = new URL(source.discoveryUrl!).host;
    throw new Error(
      `discovery names a jwks_uri on another host (${jwksUri}) than its own (${own}); list that host in issuers[].jwks_hosts of issuer "${source.issuerId}" to trust it`,
    );
  }
  const authorize = doc.authorization_endpoint;
  // It is quoted into a WWW-Authenticate header: only a plain, secure URL is kept (a bad one means no challenge).
  const usable = typeof authorize === 'string' && /^[\x21-\x7e]+$/.test(authorize) && !/["\\]/.test(authorize) && isSecureUrl(authorize);
  return { issuer, jwksUri, ...(usable ? { authorizationEndpoint: authorize } : {}) };
}

/** The JWKS is on the discovery document's own host (host and port), or on one `jwks_hosts` names. */
function jwksHostAllowed(jwksUri: string, source: KeySource): boolean {
  const jwks = new URL(jwksUri);
  if (source.discoveryUrl === undefined || jwks.host === new URL(source.discoveryUrl).host) return true;
  // A listed host without a port allows any port; with one, that port (the scheme's default when the URL names none).
  const port = jwks.port || (jwks.protocol === 'https:' ? '443' : '80');
  return source.jwksHosts.some((allowed) => allowed === jwks.hostname || allowed === `${jwks.hostname}:${port}`);
}
