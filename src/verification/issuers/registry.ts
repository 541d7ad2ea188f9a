/**
 * The configured issuers, and which key source a token's `iss` belongs to. Issuer strings come from each
 * source's discovery document; Entra's multi-tenant `{tenantid}` template is filled with the token's `tid`
 * (a GUID) and must then match `iss` exactly.
 */
import type { IssuerConfig } from '../../config/schema.js';
import { entraSources } from './entra.js';
import { GUID } from '../../contract/guid.js';
import { TENANT_TEMPLATE, type IssuerMetadata, type KeySource } from './issuer.js';
import { oidcSource } from './oidc.js';

export class IssuerRegistry {
  readonly sources: readonly KeySource[];

  constructor(issuers: readonly IssuerConfig[]) {
    this.sources = issuers.flatMap((issuer) => (issuer.type === 'entra' ? entraSources(issuer) : [oidcSource(issuer)]));
  }

  /**
   * The source whose issuer is `iss`, given each source's current metadata. `tid` fills Entra templates.
   * Several issuers may share an `iss` (one provider configured twice, for different audiences): the first
   * whose audiences include the token's `aud` wins, else the first by issuer (which then refuses the audience).
   * Few sources are configured (one to a handful), so a scan is cheaper than keeping an index in sync.
   */
  route(iss: string, tid: unknown, aud: unknown, metadataOf: (sourceId: string) => IssuerMetadata | undefined): KeySource | undefined {
    let first: KeySource | undefined;
    for (const source of this.sources) {
      if (!issues(source, iss, tid, metadataOf)) continue;
      if (hasAudience(source, aud)) return source;
      first ??= source;
    }
    return first;
  }
}

function issues(source: KeySource, iss: string, tid: unknown, metadataOf: (sourceId: string) => IssuerMetadata | undefined): boolean {
  const expected = source.expectedIssuer ?? metadataOf(source.id)?.issuer;
  if (expected === undefined) return false;
  if (expected === iss) {
    // A single-tenant issuer names its tenant: a token whose `tid` names another is not from that issuer.
    return !(source.tenant !== undefined && typeof tid === 'string' && tid.toLowerCase() !== source.tenant);
  }
  return expected.includes(TENANT_TEMPLATE) && typeof tid === 'string' && GUID.test(tid) && expected.replace(TENANT_TEMPLATE, tid) === iss;
}

function hasAudience(source: KeySource, aud: unknown): boolean {
  if (typeof aud === 'string') return source.audiences.has(aud);
  return Array.isArray(aud) && aud.some((a) => typeof a === 'string' && source.audiences.has(a));
}
