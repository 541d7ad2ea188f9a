/** Principal (core) → gatehouse.v1.Principal (wire). */
import type { WirePrincipal } from '../contract/messages.js';
import { toStruct } from '../contract/struct.js';
import type { Principal } from '../contract/principal.js';

/** A cached decision reuses its Principal object: convert each one once (claims to Struct is the costly part). */
const converted = new WeakMap<Principal, WirePrincipal>();

export function toWirePrincipal(principal: Principal): WirePrincipal {
  let wire = converted.get(principal);
  if (!wire) {
    wire = convert(principal);
    converted.set(principal, wire);
  }
  return wire;
}

function convert(principal: Principal): WirePrincipal {
  return {
    issuer: principal.issuer,
    issuerId: principal.issuerId,
    subject: principal.subject,
    tenantId: principal.tenantId,
    objectId: principal.objectId,
    clientId: principal.clientId,
    roles: [...principal.roles],
    scopes: [...principal.scopes],
    groups: [...principal.groups],
    appOnly: principal.appOnly,
    expiresAt: { seconds: Math.floor(principal.expiresAt), nanos: 0 },
    tokenVersion: principal.tokenVersion,
    claims: toStruct(principal.claims),
    groupsOverage: principal.groupsOverage,
  };
}
