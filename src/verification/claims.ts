/** Guard clauses over a token's registered claims: time, audience, version. Each throws a coded TokenError. */
import { TokenError } from './errors.js';
import type { KeySource } from './issuers/issuer.js';

export interface ClaimRules {
  readonly nowSeconds: number;
  readonly skewSeconds: number;
}

/** `exp` always; `nbf` and `iat` too for Entra (it always sets them), when present for other issuers. */
export function checkTime(payload: Readonly<Record<string, unknown>>, source: KeySource, rules: ClaimRules): number {
  const { nowSeconds, skewSeconds } = rules;
  const exp = numericDate(payload, 'exp', true);
  const nbf = numericDate(payload, 'nbf', source.kind === 'entra');
  const iat = numericDate(payload, 'iat', source.kind === 'entra');
  if (exp! <= nowSeconds - skewSeconds) {
    throw new TokenError('TOKEN_EXPIRED', `the token expired at ${isoTime(exp!)}; get a new one`);
  }
  if (nbf !== undefined && nbf > nowSeconds + skewSeconds) {
    throw new TokenError('TOKEN_NOT_YET_VALID', `the token is not valid before ${isoTime(nbf)}`);
  }
  if (iat !== undefined && iat > nowSeconds + skewSeconds) {
    throw new TokenError('TOKEN_NOT_YET_VALID', `the token was issued in the future (${isoTime(iat)}); check clocks`);
  }
  return exp!;
}

/** `aud` (a string or an array) must contain one of the configured audiences, exactly. */
export function checkAudience(payload: Readonly<Record<string, unknown>>, source: KeySource): void {
  const aud = payload.aud;
  const values = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud : undefined;
  if (!values || values.length === 0 || !values.every((v) => typeof v === 'string')) {
    throw new TokenError('CLAIMS_INVALID', 'the token has no valid "aud" claim');
  }
  if (!values.some((v) => source.audiences.has(v as string))) {
    throw new TokenError(
      'AUDIENCE_MISMATCH',
      `the token is for audience ${JSON.stringify(aud)}, not this API; request a token for one of [${[...source.audiences].join(', ')}]`,
    );
  }
}

/** Entra: `ver` must be the version of the metadata that accepted the token. */
export function checkVersion(payload: Readonly<Record<string, unknown>>, source: KeySource): void {
  if (source.kind !== 'entra') return;
  if (payload.ver !== source.tokenVersion) {
    throw new TokenError(
      'CLAIMS_INVALID',
      `the token's "ver" is ${JSON.stringify(payload.ver)}, expected "${source.tokenVersion}" for its issuer`,
    );
  }
}

function numericDate(payload: Readonly<Record<string, unknown>>, name: string, required: boolean): number | undefined {
  const value = payload[name];
  if (value === undefined) {
    if (required) throw new TokenError('CLAIMS_INVALID', `the token has no "${name}" claim`);
    return undefined;
  }
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new TokenError('CLAIMS_INVALID', `the token's "${name}" claim is not a number of seconds`);
  }
  return value;
}

/** For messages only: a finite NumericDate can still lie outside what Date holds (toISOString would throw). */
function isoTime(seconds: number): string {
  const date = new Date(seconds * 1000);
  return Number.isNaN(date.getTime()) ? `${seconds} s after the epoch` : date.toISOString();
}
