/**
 * Microsoft Entra ID: one key source per accepted token version. v1 and v2 have their own discovery documents
 * (and issuers: `https://sts.windows.net/{tid}/` and `https://login.microsoftonline.com/{tid}/v2.0`), read from
 * the configured authority so national clouds and local tests work; nothing about them is hard-coded here.
 */
import type { EntraIssuerConfig } from '../../config/schema.js';
import { GUID } from '../../contract/guid.js';
import type { KeySource } from './issuer.js';

/** The tenant of personal Microsoft accounts (MSA): `consumers` is this tenant, `organizations` excludes it. */
export const CONSUMER_TENANT_ID = '9188040d-6c67-4c5b-b112-36a304b66dad';

export function entraSources(config: EntraIssuerConfig): KeySource[] {
  const authority = config.authority.replace(/\/+$/, '');
  const single = GUID.test(config.tenant);
  const tenant = single ? config.tenant.toLowerCase() : config.tenant === 'consumers' ? CONSUMER_TENANT_ID : undefined;
  const allowedTenants = single
    ? undefined
    : config.allowed_tenants?.includes('*')
      ? ('*' as const)
      : new Set((config.allowed_tenants ?? []).map((t) => t.toLowerCase()));
  const versions = [...new Set(config.token_versions)].sort();
  return versions.map((version) => ({
    id: versions.length > 1 ? `${config.id}/v${version}` : config.id,
    issuerId: config.id,
    kind: 'entra' as const,
    tokenVersion: version === 1 ? ('1.0' as const) : ('2.0' as const),
    algorithms: new Set(config.algorithms),
    audiences: new Set(config.audiences),
    jwksHosts: config.jwks_hosts ?? [],
    allowedTenants,
    tenant,
    ...(config.tenant === 'organizations' ? { excludedTenants: new Set([CONSUMER_TENANT_ID]) } : {}),
    discoveryUrl:
      version === 1
        ? `${authority}/${config.tenant}/.well-known/openid-configuration`
        : `${authority}/${config.tenant}/v2.0/.well-known/openid-configuration`,
    staticMetadata: undefined,
    expectedIssuer: undefined,
    authorizationEndpoint: `${authority}/${config.tenant}/oauth2/${version === 1 ? '' : 'v2.0/'}authorize`,
  }));
}
