/**
 * Splits a compact JWS into its parts and decodes the header and payload, refusing anything that is not
 * exactly three base64url segments of JSON objects, each naming every member once. No signature is checked here.
 */
import { hasDuplicateMembers } from './duplicate-members.js';
import { TokenError } from './errors.js';

export interface ParsedJws {
  readonly header: Readonly<Record<string, unknown>>;
  readonly payload: Readonly<Record<string, unknown>>;
  /** `base64url(header) + '.' + base64url(payload)`: the bytes the signature covers. */
  readonly signingInput: string;
  readonly signature: Buffer;
}

const BASE64URL = /^[A-Za-z0-9_-]+$/;

export function parseJws(token: string): ParsedJws {
  const first = token.indexOf('.');
  const second = first < 0 ? -1 : token.indexOf('.', first + 1);
  if (second < 0 || token.indexOf('.', second + 1) >= 0) {
    throw new TokenError('TOKEN_MALFORMED', 'the token is not a JWT: expected three dot-separated segments');
  }
  const headerPart = token.slice(0, first);
  const payloadPart = token.slice(first + 1, second);
  const signaturePart = token.slice(second + 1);
  return {
    header: headerOf(headerPart),
    payload: decodeObject(payloadPart, 'payload'),
    signingInput: token.slice(0, second),
    // Empty for an unsecured JWS (RFC 7515 A.5): verifyToken refuses it by its `alg` first, then as unsigned.
    signature: signaturePart ? decodeSegment(signaturePart, 'signature') : Buffer.alloc(0),
  };
}

/**
 * Headers decoded before. An issuer signs every token under one of a few headers (`{"alg","kid","typ"}`), so the
 * same segment is decoded again and again: it is kept, parsed and frozen, keyed by its text (parsing is a function
 * of the text alone). Kept only when short and flat (no object inside to change); a flood of distinct headers only
 * empties the map, which stays bounded.
 */
const knownHeaders = new Map<string, Readonly<Record<string, unknown>>>();
const MAX_KNOWN_HEADERS = 64;
const MAX_KNOWN_HEADER_CHARS = 512;

function headerOf(part: string): Readonly<Record<string, unknown>> {
  const known = knownHeaders.get(part);
  if (known) return known;
  const header = decodeObject(part, 'header');
  if (part.length <= MAX_KNOWN_HEADER_CHARS && Object.values(header).every((v) => v === null || typeof v !== 'object')) {
    if (knownHeaders.size >= MAX_KNOWN_HEADERS) knownHeaders.clear();
    knownHeaders.set(part, Object.freeze(header));
  }
  return header;
}

function decodeSegment(part: string, what: string): Buffer {
  if (!BASE64URL.test(part) || part.length % 4 === 1) {
    throw new TokenError('TOKEN_MALFORMED', `the token's ${what} is not base64url`);
  }
  return Buffer.from(part, 'base64url');
}

function decodeObject(part: string, what: string): Record<string, unknown> {
  const bytes = decodeSegment(part, what);
  const text = bytes.toString('utf8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new TokenError('TOKEN_MALFORMED', `the token's ${what} is not JSON`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new TokenError('TOKEN_MALFORMED', `the token's ${what} is not a JSON object`);
  }
  if (hasDuplicateMembers(text, value)) {
    throw new TokenError('TOKEN_MALFORMED', `the token's ${what} names a member twice (readers could disagree on which counts)`);
  }
  return value as Record<string, unknown>;
}
