/** Principal ⇄ gatehouse.v1.Principal: the server writes it, the client library reads it back. */
import type { WirePrincipal } from './messages.js';
import type { Principal } from './principal.js';
import { fromStruct, toStruct } from './struct.js';

/** A cached decision reuses its Principal object: convert each one once (claims to Struct is the costly part). */
const converted = new WeakMap<Principal, WirePrincipal>();

/** The wire form of a principal, converted once per Principal object. */
export function toWirePrincipal(principal: Principal): WirePrincipal {
  let wire = converted.get(principal);
  if (!wire) {
    wire = convert(principal);
    converted.set(principal, wire);
  }
  return wire;
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
