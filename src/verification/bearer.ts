/** The one place that reads a bearer token out of a string: `Bearer <jwt>` (any case) or the bare JWT. */
const BEARER = /^bearer[ \t]+/i;

export function stripBearer(value: string): string {
  const trimmed = value.trim();
  return BEARER.test(trimmed) ? trimmed.replace(BEARER, '').trim() : trimmed;
}
