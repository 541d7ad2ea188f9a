/** Builds the Principal from verified claims, refusing claims of the wrong shape. */
import { TokenError } from './errors.js';
import type { KeySource } from './issuers/issuer.js';
import type { Principal } from '../contract/principal.js';

export function principalFromClaims(payload: Readonly<Record<string, unknown>>, source: KeySource, expiresAt: number): Principal {
  const sub = payload.sub;
  if (typeof sub !== 'string' || !sub) throw new TokenError('CLAIMS_INVALID', 'the token has no "sub" claim');
  const scopes = scopeList(payload);
  const clientId = stringClaim(payload, 'azp') || stringClaim(payload, 'appid') || stringClaim(payload, 'client_id');
  return {
    issuer: payload.iss as string,
    issuerId: source.issuerId,
    subject: sub,
    tenantId: stringClaim(payload, 'tid'),
    objectId: stringClaim(payload, 'oid'),
    clientId,
    roles: stringList(payload, 'roles'),
    scopes,
    groups: stringList(payload, 'groups'),
    groupsOverage: hasGroupsOverage(payload),
    appOnly: isAppOnly(payload, source, scopes, sub, clientId),
    expiresAt,
    tokenVersion: source.kind === 'entra' ? (payload.ver as string) : '',
    claims: payload,
  };
}

/**
 * Entra marks app tokens with `idtyp: app` when the optional claim is on; otherwise an app token is one
 * without delegated scopes whose subject is its own service principal (`sub` equals `oid`): that keeps a user's
 * ID token (no `scp`, a pairwise `sub`) from passing for an application. Other issuers: a client-credentials
 * token's subject is the client itself (RFC 9068).
 */
function isAppOnly(
  payload: Readonly<Record<string, unknown>>,
  source: KeySource,
  scopes: readonly string[],
  sub: string,
  clientId: string,
): boolean {
  if (payload.idtyp === 'app') return true;
  if (payload.idtyp === 'user') return false;
  if (source.kind === 'entra') return scopes.length === 0 && typeof payload.oid === 'string' && payload.oid !== '' && sub === payload.oid;
  return clientId !== '' && sub === clientId;
}

/** `scp` (Entra) or `scope` (RFC 9068), space separated; some issuers send an array. */
function scopeList(payload: Readonly<Record<string, unknown>>): string[] {
  const raw = payload.scp ?? payload.scope;
  if (raw === undefined) return [];
  if (typeof raw === 'string') return raw.split(' ').filter((s) => s !== '');
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
