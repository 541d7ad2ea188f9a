/** Principal ⇄ gatehouse.v1.Principal: the server writes it, the client library reads it back. */
import type { WirePrincipal } from './messages.js';
import type { Principal } from './principal.js';
import { fromStruct, toStruct } from './struct.js';

/** A cached decision reuses its Principal object: convert each one once (claims to Struct is the costly part). */
const converted = new WeakMap<Principal, WirePrincipal>();
const kept = new WeakSet<WirePrincipal>();

/**
 * The wire form of a principal, converted once per Principal object when `keep` (a principal served from a cache,
 * which will be answered about again); otherwise converted and not remembered: for a token seen once, a WeakMap
 * entry costs more garbage collection (~1.9 µs, measured) than it could ever save.
 */
export function toWirePrincipal(principal: Principal, keep = true): WirePrincipal {
  let wire = converted.get(principal);
  if (!wire) {
    wire = convert(principal);
    if (keep) {
      converted.set(principal, wire);
      kept.add(wire);
    }
  }
  return wire;
}

/** True for a wire principal toWirePrincipal remembered: one worth preparing its bytes for. */
export function isKeptWirePrincipal(wire: WirePrincipal): boolean {
  return kept.has(wire);
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
