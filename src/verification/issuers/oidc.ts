/** A standard OpenID Connect issuer: metadata from `{issuer}/.well-known/openid-configuration`. */
import type { OidcIssuerConfig } from '../../config/schema.js';
import type { KeySource } from './issuer.js';

export function oidcSource(config: OidcIssuerConfig): KeySource {
  const issuer = config.issuer;
  return {
    id: config.id,
    issuerId: config.id,
    kind: 'oidc',
    tokenVersion: '',
    algorithms: new Set(config.algorithms),
    audiences: new Set(config.audiences),
    jwksHosts: config.jwks_hosts ?? [],
    allowedTenants: undefined,
    tenant: undefined,
    discoveryUrl: config.jwks_uri ? undefined : `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`,
    staticMetadata: config.jwks_uri ? { issuer, jwksUri: config.jwks_uri } : undefined,
    expectedIssuer: issuer,
  };
}
