/**
 * Where a claims challenge sends the user to step up: the `authorization_endpoint` of the discovery document of the
 * key source that accepted the token; for Entra, failing that, `{authority}/{tenant}/oauth2/v2.0/authorize` (v1:
 * `oauth2/authorize`). An OIDC issuer configured with `jwks_uri` (no discovery) has none: then no challenge is sent.
 */
import type { Principal } from '../contract/principal.js';
import { TENANT_TEMPLATE } from './issuers/issuer.js';
import type { VerificationContext } from './verify-token.js';

export function authorizationEndpoint(context: VerificationContext, principal: Principal): string | undefined {
  for (const source of context.registry.sources) {
    if (source.issuerId !== principal.issuerId || source.tokenVersion !== principal.tokenVersion) continue;
    const uri = context.keyCache.metadata(source.id)?.authorizationEndpoint ?? source.authorizationEndpoint;
    return uri && principal.tenantId ? uri.replace(TENANT_TEMPLATE, principal.tenantId) : uri;
  }
  return undefined;
}
