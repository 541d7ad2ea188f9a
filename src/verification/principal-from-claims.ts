/**
 * Builds the Principal from verified claims, refusing claims of the wrong shape. Claims only Entra defines
 * (`idtyp`, `appid`, `tid`, `hasgroups`, groups overage) are read for Entra issuers only: another issuer may
 * mint them with another meaning, or let a user choose their value.
 */
import { TokenError } from './errors.js';
import type { KeySource } from './issuers/issuer.js';
import type { Principal } from '../contract/principal.js';

export function principalFromClaims(payload: Readonly<Record<string, unknown>>, source: KeySource, expiresAt: number): Principal {
  const sub = payload.sub;
  if (typeof sub !== 'string' || !sub) throw new TokenError('CLAIMS_INVALID', 'the token has no "sub" claim');
  const scopes = scopeList(payload);
  const entra = source.kind === 'entra';
  const clientId = stringClaim(payload, 'azp') || (entra ? stringClaim(payload, 'appid') : '') || stringClaim(payload, 'client_id');
  return {
    issuer: payload.iss as string,
    issuerId: source.issuerId,
    subject: sub,
    tenantId: entra ? stringClaim(payload, 'tid') : '',
    objectId: stringClaim(payload, 'oid'),
    clientId,
    roles: stringList(payload, 'roles'),
    scopes,
    groups: stringList(payload, 'groups'),
    groupsOverage: entra && hasGroupsOverage(payload),
    appOnly: isAppOnly(payload, source, scopes, sub, clientId),
    expiresAt,
    tokenVersion: entra ? (payload.ver as string) : '',
    claims: payload,
  };
}

/**
 * Entra marks app tokens with `idtyp: app` when the optional claim is on; otherwise an app token is one
 * without delegated scopes whose subject is its own service principal (`sub` equals `oid`): that keeps a user's
 * ID token (no `scp`, a pairwise `sub`) from passing for an application. Other issuers: a client-credentials
 * token's subject is the client itself (RFC 9068), whatever `idtyp` says.
 */
function isAppOnly(
  payload: Readonly<Record<string, unknown>>,
  source: KeySource,
  scopes: readonly string[],
  sub: string,
  clientId: string,
): boolean {
  if (source.kind !== 'entra') return clientId !== '' && sub === clientId;
  if (payload.idtyp === 'app') return true;
  if (payload.idtyp === 'user') return false;
  return scopes.length === 0 && typeof payload.oid === 'string' && payload.oid !== '' && sub === payload.oid;
}

/** `scp` (Entra) or `scope` (RFC 9068), space separated; some issuers send an array. */
function scopeList(payload: Readonly<Record<string, unknown>>): string[] {
  const raw = payload.scp ?? payload.scope;
  if (raw === undefined) return [];
  if (typeof raw === 'string') {
    // Runs of spaces, one at either end, or none at all leave empty items: filtered out only when there can be any.
    const scopes = raw.split(' ');
    return raw === '' || raw.includes('  ') || raw.startsWith(' ') || raw.endsWith(' ') ? scopes.filter((s) => s !== '') : scopes;
  }
  if (Array.isArray(raw) && raw.every((s) => typeof s === 'string')) return raw as string[];
  throw new TokenError('CLAIMS_INVALID', 'the token\'s "scp" claim is neither a string nor a list of strings');
}

function stringList(payload: Readonly<Record<string, unknown>>, name: string): string[] {
  const raw = payload[name];
  if (raw === undefined) return [];
  if (Array.isArray(raw) && raw.every((s) => typeof s === 'string')) return raw as string[];
  throw new TokenError('CLAIMS_INVALID', `the token's "${name}" claim is not a list of strings`);
}

function stringClaim(payload: Readonly<Record<string, unknown>>, name: string): string {
  const raw = payload[name];
  return typeof raw === 'string' ? raw : '';
}

/** Entra puts `_claim_names.groups` (JWT) or `hasgroups: true` (implicit flow) when groups did not fit. */
function hasGroupsOverage(payload: Readonly<Record<string, unknown>>): boolean {
  if (payload.hasgroups === true) return true;
  const names = payload._claim_names;
  return names !== null && typeof names === 'object' && 'groups' in names;
}
