/**
 * The configured issuers, and which key source a token's `iss` belongs to. Issuer strings come from each
 * source's discovery document; Entra's multi-tenant `{tenantid}` template is filled with the token's `tid`
 * (a GUID) and must then match `iss` exactly.
 */
import type { IssuerConfig } from '../../config/schema.js';
import { entraSources } from './entra.js';
import { GUID, TENANT_TEMPLATE, type IssuerMetadata, type KeySource } from './issuer.js';
import { oidcSource } from './oidc.js';

export class IssuerRegistry {
  readonly sources: readonly KeySource[];

  constructor(issuers: readonly IssuerConfig[]) {
    this.sources = issuers.flatMap((issuer) => (issuer.type === 'entra' ? entraSources(issuer) : [oidcSource(issuer)]));
  }

  /**
   * The source whose issuer is `iss`, given each source's current metadata. `tid` fills Entra templates.
   * Few sources are configured (one to a handful), so a scan is cheaper than keeping an index in sync.
   */
  route(iss: string, tid: unknown, metadataOf: (sourceId: string) => IssuerMetadata | undefined): KeySource | undefined {
    for (const source of this.sources) {
      const expected = source.expectedIssuer ?? metadataOf(source.id)?.issuer;
      if (expected === undefined) continue;
      if (expected === iss) {
        // A single-tenant issuer names its tenant: a token whose `tid` names another is not from that issuer.
        if (source.tenant !== undefined && typeof tid === 'string' && tid.toLowerCase() !== source.tenant) continue;
        return source;
      }
      if (expected.includes(TENANT_TEMPLATE) && typeof tid === 'string' && GUID.test(tid)) {
        if (expected.replace(TENANT_TEMPLATE, tid) === iss) return source;
      }
    }
    return undefined;
  }
}
