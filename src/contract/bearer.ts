/**
 * The one place that reads a bearer token out of a string: `Bearer <jwt>` (any case) or the bare JWT.
 * Shared by the verification core and the client library, so a token means the same thing on both sides.
 */
// `$`: a bare "Bearer" (what "Bearer " trims to) names the scheme but carries no token.
const BEARER = /^bearer(?:[ \t]+|$)/i;

export function stripBearer(value: string): string {
  const trimmed = value.trim();
  return BEARER.test(trimmed) ? trimmed.replace(BEARER, '').trim() : trimmed;
}
