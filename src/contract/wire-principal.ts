/** Principal ⇄ gatehouse.v1.Principal: the server writes it, the client library reads it back. */
import type { WirePrincipal } from './messages.js';
import type { Principal } from './principal.js';
import { fromStruct, toStruct } from './struct.js';

/**
 * The wire form of a principal: the reference mapping, which principalFromWire undoes. The server writes a
 * principal's bytes straight from it (src/server/principal-writer.ts), to the bytes this form encodes to.
 */
export function toWirePrincipal(principal: Principal): WirePrincipal {
  return convert(principal);
}

/** The principal a gatehouse.v1.Principal describes: frozen, like the one the server built. */
export function principalFromWire(wire: WirePrincipal): Principal {
  return Object.freeze({
    issuer: wire.issuer,
    issuerId: wire.issuerId,
    subject: wire.subject,
    tenantId: wire.tenantId,
    objectId: wire.objectId,
    clientId: wire.clientId,
    roles: Object.freeze([...wire.roles]),
    scopes: Object.freeze([...wire.scopes]),
    groups: Object.freeze([...wire.groups]),
    groupsOverage: wire.groupsOverage,
    appOnly: wire.appOnly,
    expiresAt: wire.expiresAt?.seconds ?? 0,
    tokenVersion: wire.tokenVersion,
    claims: Object.freeze(fromStruct(wire.claims)),
  });
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
