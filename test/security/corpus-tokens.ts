/**
 * Hostile tokens: headers and algorithms, then structure. Each is what an attacker can build with the issuer's
 * public key and any token it once saw; a few are signed by the issuer's own key, to show that the check refusing
 * them is not the signature. The reasons are those of src/contract/reasons.ts.
 */
import { createHmac, generateKeyPairSync } from 'node:crypto';
import { b64 } from '../verification/loopback-issuer.js';
import { bearer, TOKEN_MAX_BYTES, type HostileCase, type World } from './world.js';

const rsaHeader = (w: World, extra: Record<string, unknown> = {}) => ({ alg: 'RS256', kid: w.issuer.kid('rsa'), typ: 'JWT', ...extra });
/** `header.payload` signed by the issuer's RSA key, the header and payload JSON given as text. */
const signedText = (w: World, header: string, payload: string) => w.issuer.signParts(b64(header), b64(payload), 'rsa');
const hmac = (alg: string, w: World, secret: string | Buffer) => {
  const input = `${b64({ alg, kid: w.issuer.kid('rsa'), typ: 'JWT' })}.${b64(w.claims())}`;
  const digest = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' }[alg] ?? 'sha256';
  return `${input}.${createHmac(digest, secret).update(input).digest('base64url')}`;
};
const unsigned = (header: Record<string, unknown>, w: World, signature = '') => `${b64(header)}.${b64(w.claims())}.${signature}`;
/** The attacker's own key, published nowhere. */
const attacker = generateKeyPairSync('rsa', { modulusLength: 2048 });

export const HEADER_CASES: readonly HostileCase[] = [
  // alg none, in any case: refused by name before a key is looked up.
  { id: 'alg none, unsigned', build: (w) => bearer(unsigned({ alg: 'none' }, w)), expect: 'ALGORITHM_NOT_ALLOWED' },
  { id: 'alg None', build: (w) => bearer(unsigned({ alg: 'None', kid: w.issuer.kid('rsa') }, w)), expect: 'ALGORITHM_NOT_ALLOWED' },
  { id: 'alg NONE', build: (w) => bearer(unsigned({ alg: 'NONE' }, w)), expect: 'ALGORITHM_NOT_ALLOWED' },
  { id: 'alg nOnE with a signature', build: (w) => bearer(unsigned({ alg: 'nOnE' }, w, 'c2ln')), expect: 'ALGORITHM_NOT_ALLOWED' },
  // Key confusion: the provider's public key used as an HMAC secret.
  {
    id: 'HS256 keyed with the public PEM',
    build: (w) => bearer(hmac('HS256', w, w.issuer.publicPem('rsa'))),
    expect: 'ALGORITHM_NOT_ALLOWED',
  },
  {
    id: 'HS384 keyed with the public PEM bytes',
    build: (w) => bearer(hmac('HS384', w, Buffer.from(w.issuer.publicPem('rsa')))),
    expect: 'ALGORITHM_NOT_ALLOWED',
  },
  { id: 'HS512 keyed with the kid', build: (w) => bearer(hmac('HS512', w, w.issuer.kid('rsa'))), expect: 'ALGORITHM_NOT_ALLOWED' },
  // Algorithm swaps: the alg never picks how a key is used.
  {
    id: 'RS256 over the EC key’s kid',
    build: (w) => bearer(w.issuer.token({ claims: w.claims(), header: { kid: w.issuer.kid('ec') } })),
    expect: 'ALGORITHM_NOT_ALLOWED',
  },
  {
    id: 'ES256 over the RSA key’s kid',
    build: (w) => bearer(w.issuer.token({ key: 'ec', claims: w.claims(), header: { kid: w.issuer.kid('rsa') } })),
    expect: 'ALGORITHM_NOT_ALLOWED',
  },
  {
    id: 'PS256, not on the issuer’s list',
    build: (w) => bearer(w.issuer.token({ claims: w.claims(), header: { alg: 'PS256' } })),
    expect: 'ALGORITHM_NOT_ALLOWED',
  },
  {
    id: 'RS512, not on the issuer’s list',
    build: (w) => bearer(w.issuer.token({ claims: w.claims(), header: { alg: 'RS512' } })),
    expect: 'ALGORITHM_NOT_ALLOWED',
  },
  { id: 'EdDSA', build: (w) => bearer(w.issuer.token({ claims: w.claims(), header: { alg: 'EdDSA' } })), expect: 'ALGORITHM_NOT_ALLOWED' },
  // kid: looked up in a map, never in a file or a database.
  {
    id: 'kid with path traversal',
    build: (w) => bearer(w.issuer.token({ claims: w.claims(), header: { kid: '../../../../../../etc/passwd' } })),
    expect: 'KEY_NOT_FOUND',
  },
  {
    id: 'kid with SQL',
    build: (w) => bearer(w.issuer.token({ claims: w.claims(), header: { kid: "' OR '1'='1' --" } })),
    expect: 'KEY_NOT_FOUND',
  },
  {
    id: 'kid with NUL and the cache key separator',
    build: (w) => bearer(w.issuer.token({ claims: w.claims(), header: { kid: `\u0000only\u0000${w.issuer.kid('rsa')}` } })),
    expect: 'KEY_NOT_FOUND',
  },
  {
    id: 'kid not a string',
    build: (w) => bearer(w.issuer.token({ claims: w.claims(), header: { kid: { $ne: '' } } })),
    expect: 'TOKEN_MALFORMED',
  },
  // Keys named by the token itself: refused even when the issuer's own key signed it.
  {
    id: 'jku at an attacker JWKS',
    build: (w) => bearer(w.issuer.token({ claims: w.claims(), header: { jku: 'https://evil.example/jwks' } })),
    expect: 'TOKEN_MALFORMED',
  },
  {
    id: 'x5u at an attacker certificate',
    build: (w) => bearer(w.issuer.token({ claims: w.claims(), header: { x5u: 'https://evil.example/c.pem' } })),
    expect: 'TOKEN_MALFORMED',
  },
  {
    id: 'jwk embedding the attacker key, signed by it',
    build: (w) => {
      const jwk = attacker.publicKey.export({ format: 'jwk' });
      const h = b64({ alg: 'RS256', jwk });
      const p = b64(w.claims());
      return bearer(`${h}.${p}.${b64('x'.repeat(256))}`);
    },
    expect: 'TOKEN_MALFORMED',
  },
  {
    id: 'x5c with an attacker chain',
    build: (w) => bearer(w.issuer.token({ claims: w.claims(), header: { x5c: ['MIIBattacker'] } })),
    expect: 'TOKEN_MALFORMED',
  },
  {
    id: 'crit naming exp',
    build: (w) => bearer(w.issuer.token({ claims: w.claims(), header: { crit: ['exp'], exp: 1 } })),
    expect: 'TOKEN_MALFORMED',
  },
  {
    id: 'b64 false, critical',
    build: (w) => bearer(w.issuer.token({ claims: w.claims(), header: { b64: false, crit: ['b64'] } })),
    expect: 'TOKEN_MALFORMED',
  },
  {
    id: 'b64 false, signature over the unencoded payload',
    build: (w) => {
      const header = JSON.stringify(rsaHeader(w, { b64: false }));
      const payload = JSON.stringify(w.claims());
      const signature = w.issuer.signParts(b64(header), payload, 'rsa').split('.').pop()!;
      return bearer(`${b64(header)}.${b64(payload)}.${signature}`);
    },
    expect: 'SIGNATURE_INVALID',
  },
];

export const STRUCTURE_CASES: readonly HostileCase[] = [
  {
    id: 'JWE, five segments',
    build: (w) => bearer(`${b64({ alg: 'RSA-OAEP', enc: 'A256GCM', kid: w.issuer.kid('rsa') })}.a.b.c.d`),
    expect: 'TOKEN_MALFORMED',
  },
  {
    id: 'nested JWT (cty JWT, a token as the payload)',
    build: (w) => bearer(signedText(w, JSON.stringify(rsaHeader(w, { cty: 'JWT' })), w.reader)),
    expect: 'TOKEN_MALFORMED',
  },
  { id: 'empty segments', build: () => bearer('..'), expect: 'TOKEN_MALFORMED' },
  { id: 'no signature segment', build: (w) => bearer(w.reader.split('.').slice(0, 2).join('.')), expect: 'TOKEN_MALFORMED' },
  { id: 'empty signature, alg RS256', build: (w) => bearer(`${w.reader.split('.').slice(0, 2).join('.')}.`), expect: 'TOKEN_MALFORMED' },
  { id: 'empty header segment', build: (w) => bearer(`.${w.reader.split('.').slice(1).join('.')}`), expect: 'TOKEN_MALFORMED' },
  { id: 'base64 padding', build: (w) => bearer(w.reader.replace(/\.([^.]+)$/, '.$1==')), expect: 'TOKEN_MALFORMED' },
  {
    id: 'standard base64 alphabet (+ /)',
    build: (w) => bearer(w.reader.replace(/\.([^.]+)$/, (_m, s: string) => `.${Buffer.from(s, 'base64url').toString('base64')}`)),
    expect: 'TOKEN_MALFORMED',
  },
  {
    id: 'a base64url length that cannot exist',
    build: (w) => bearer(`${w.reader}A`.replace(/\.([^.]+)$/, '.A')),
    expect: 'TOKEN_MALFORMED',
  },
  { id: 'payload not JSON', build: (w) => bearer(signedText(w, JSON.stringify(rsaHeader(w)), '{"iss": ')), expect: 'TOKEN_MALFORMED' },
  {
    id: 'payload a JSON array',
    build: (w) => bearer(signedText(w, JSON.stringify(rsaHeader(w)), JSON.stringify([w.claims()]))),
    expect: 'TOKEN_MALFORMED',
  },
  {
    id: 'duplicate claim: roles, the last one granting',
    build: (w) => {
      const text = JSON.stringify(w.claims({ roles: ['Nobody'] }));
      return bearer(signedText(w, JSON.stringify(rsaHeader(w)), `${text.slice(0, -1)},"roles":["Orders.Read"]}`));
    },
    expect: 'TOKEN_MALFORMED',
  },
  {
    id: 'duplicate claim: iss, an attacker’s first',
    build: (w) => {
      const text = JSON.stringify(w.claims());
      return bearer(signedText(w, JSON.stringify(rsaHeader(w)), `{"iss":"https://evil.example",${text.slice(1)}`));
    },
    expect: 'TOKEN_MALFORMED',
  },
  {
    id: 'duplicate header parameter: alg',
    build: (w) =>
      bearer(signedText(w, `{"alg":"none","alg":"RS256","kid":${JSON.stringify(w.issuer.kid('rsa'))}}`, JSON.stringify(w.claims()))),
    expect: 'TOKEN_MALFORMED',
  },
  { id: 'exp a string', build: (w) => bearer(w.issuer.token({ claims: w.claims({ exp: '9999999999' }) })), expect: 'CLAIMS_INVALID' },
  { id: 'exp an object', build: (w) => bearer(w.issuer.token({ claims: w.claims({ exp: { valueOf: 1 } }) })), expect: 'CLAIMS_INVALID' },
  { id: 'nbf a string', build: (w) => bearer(w.issuer.token({ claims: w.claims({ nbf: '0' }) })), expect: 'CLAIMS_INVALID' },
  { id: 'aud a number', build: (w) => bearer(w.issuer.token({ claims: w.claims({ aud: 42 }) })), expect: 'CLAIMS_INVALID' },
  { id: 'aud an object', build: (w) => bearer(w.issuer.token({ claims: w.claims({ aud: { 0: 'x' } }) })), expect: 'CLAIMS_INVALID' },
  {
    id: 'a huge aud array, none of it ours',
    build: (w) => bearer(w.issuer.token({ claims: w.claims({ aud: Array.from({ length: 1500 }, (_, i) => `a${i}`) }) })),
    expect: 'AUDIENCE_MISMATCH',
  },
  {
    id: 'a token over tokens.max_bytes',
    build: (w) => bearer(w.issuer.token({ claims: w.claims({ pad: 'x'.repeat(TOKEN_MAX_BYTES) }) })),
    expect: 'TOKEN_TOO_LARGE',
  },
  {
    id: 'a 1 MB token',
    build: (w) => bearer(w.issuer.token({ claims: w.claims({ pad: 'x'.repeat(1024 * 1024) }) })),
    // Past the gRPC transport's ceiling (2 × server.max_message_bytes): grpc-js stops at the length prefix. Over the
    // header bound on HTTP.
    expect: 'grpc:RESOURCE_EXHAUSTED',
    doors: { http: 'HEADERS_TOO_LARGE' },
  },
  { id: 'trailing garbage segment', build: (w) => bearer(`${w.reader}.garbage`), expect: 'TOKEN_MALFORMED' },
  { id: 'trailing garbage in the signature', build: (w) => bearer(`${w.reader}AAAA`), expect: 'SIGNATURE_INVALID' },
  { id: 'trailing garbage after a space', build: (w) => bearer(`${w.reader} garbage`), expect: 'TOKEN_MALFORMED' },
  {
    id: 'a valid signature on a changed payload',
    build: (w) => {
      const [h, , s] = w.reader.split('.');
      return bearer(`${h}.${b64(w.claims({ sub: 'admin', roles: ['Orders.Read', 'Orders.Admin'] }))}.${s}`, { path: '/admin' });
    },
    expect: 'SIGNATURE_INVALID',
  },
  {
    id: 'an ECDSA signature of zeros (r = s = 0)',
    build: (w) => bearer(`${b64({ alg: 'ES256', kid: w.issuer.kid('ec') })}.${b64(w.claims())}.${Buffer.alloc(64).toString('base64url')}`),
    expect: 'SIGNATURE_INVALID',
  },
  {
    id: 'an ECDSA signature in DER instead of r||s',
    build: (w) =>
      bearer(
        `${b64({ alg: 'ES256', kid: w.issuer.kid('ec') })}.${b64(w.claims())}.${Buffer.from([0x30, 6, 2, 1, 0, 2, 1, 0]).toString('base64url')}`,
      ),
    expect: 'SIGNATURE_INVALID',
  },
  {
    id: 'an RSA signature of zeros',
    build: (w) => bearer(`${b64(rsaHeader(w))}.${b64(w.claims())}.${Buffer.alloc(256).toString('base64url')}`),
    expect: 'SIGNATURE_INVALID',
  },
  {
    id: 'signed by a key the issuer never published',
    build: (w) => bearer(w.issuer.token({ key: 'stranger', claims: w.claims() })),
    expect: 'KEY_NOT_FOUND',
  },
  {
    id: 'another key behind the issuer’s kid',
    build: (w) => bearer(w.issuer.token({ key: 'stranger', claims: w.claims(), header: { kid: w.issuer.kid('rsa') } })),
    expect: 'SIGNATURE_INVALID',
  },
  { id: 'no iss', build: (w) => bearer(w.issuer.token({ claims: w.claims({ iss: undefined }) })), expect: 'CLAIMS_INVALID' },
  {
    id: 'iss with a trailing slash',
    build: (w) => bearer(w.issuer.token({ claims: w.claims({ iss: `${w.issuer.issuer}/` }) })),
    expect: 'ISSUER_NOT_TRUSTED',
  },
  { id: 'expired', build: (w) => bearer(w.issuer.token({ claims: w.claims({ exp: 1000 }) })), expect: 'TOKEN_EXPIRED' },
];
