/**
 * Hostile requests around a token: the `authorization` header on the wire, Entra's own formats (minted by the
 * loopback Entra server with Microsoft's real documents), and the front doors' headers and paths.
 */
import { CONSUMER_TENANT_ID } from '../helpers/entra-server.js';
import { bearer, ENTRA_AUDIENCE, OTHER_TENANT, TENANT, TENANT_V1, type HostileCase, type World } from './world.js';

const entra = (w: World, opts: Partial<Parameters<World['entra']['mint']>[0]> = {}) =>
  w.entra.mint({ version: 2, tid: TENANT, aud: ENTRA_AUDIENCE, ...opts, claims: { roles: ['Orders.Read'], ...opts.claims } });
/** HTTP's own refusal of a request it will not decide (two tokens, control characters). */
const MALFORMED_ON_HTTP = { http: 'FORWARD_MALFORMED' } as const;

export const WIRE_CASES: readonly HostileCase[] = [
  {
    id: 'two authorization headers, both valid',
    build: (w) => ({ ...bearer(w.reader), authorization: [`Bearer ${w.reader}`, `Bearer ${w.reader}`] }),
    expect: 'TOKEN_MALFORMED',
    doors: MALFORMED_ON_HTTP,
  },
  {
    id: 'two authorization headers, a forged one first',
    build: (w) => ({ ...bearer(w.reader), authorization: ['Bearer forged.forged.forged', `Bearer ${w.reader}`] }),
    expect: 'TOKEN_MALFORMED',
    doors: MALFORMED_ON_HTTP,
  },
  {
    id: 'lower-case bearer on an expired token (the scheme is read, the token still checked)',
    build: (w) => ({ ...bearer(''), authorization: [`bearer ${w.issuer.token({ claims: w.claims({ exp: 1000 }) })}`] }),
    expect: 'TOKEN_EXPIRED',
  },
  { id: 'another scheme: Basic', build: () => ({ ...bearer(''), authorization: ['Basic YWxpY2U6c2VjcmV0'] }), expect: 'TOKEN_MALFORMED' },
  { id: 'another scheme: Token', build: (w) => ({ ...bearer(''), authorization: [`Token ${w.reader}`] }), expect: 'TOKEN_MALFORMED' },
  {
    id: 'the scheme glued to the token',
    build: (w) => ({ ...bearer(''), authorization: [`Bearer${w.reader}`] }),
    expect: 'TOKEN_MALFORMED',
  },
  { id: 'the scheme and no token', build: () => ({ ...bearer(''), authorization: ['Bearer'] }), expect: 'TOKEN_MISSING' },
  { id: 'no authorization at all', build: () => ({ ...bearer(''), authorization: [] }), expect: 'TOKEN_MISSING' },
];

export const ENTRA_CASES: readonly HostileCase[] = [
  {
    id: 'Entra: a token from another tenant',
    build: async (w) => bearer(await entra(w, { tid: OTHER_TENANT })),
    expect: 'ISSUER_NOT_TRUSTED',
  },
  {
    id: 'Entra: tid naming another tenant than iss',
    build: async (w) => bearer(await entra(w, { claims: { tid: OTHER_TENANT } })),
    expect: 'ISSUER_NOT_TRUSTED',
  },
  { id: 'Entra: v1 where only v2 is allowed', build: async (w) => bearer(await entra(w, { version: 1 })), expect: 'ISSUER_NOT_TRUSTED' },
  {
    id: 'Entra: v2 where only v1 is allowed',
    build: async (w) => bearer(await entra(w, { version: 2, tid: TENANT_V1 })),
    expect: 'ISSUER_NOT_TRUSTED',
  },
  {
    id: 'Entra: a consumer (personal account) token on an organizations API',
    gate: 'org',
    build: async (w) => bearer(await entra(w, { tid: CONSUMER_TENANT_ID, key: 'consumer' })),
    expect: 'TENANT_NOT_ALLOWED',
  },
  {
    id: 'Entra: a tenant the organizations API does not list',
    gate: 'org',
    build: async (w) => bearer(await entra(w, { tid: OTHER_TENANT })),
    expect: 'TENANT_NOT_ALLOWED',
  },
  {
    id: 'Entra: a Microsoft Graph token (nonce in the header)',
    build: async (w) => bearer(await entra(w, { aud: '00000003-0000-0000-c000-000000000000', extraHeader: { nonce: 'AQAB' } })),
    expect: 'TOKEN_NOT_FOR_THIS_API',
  },
  {
    id: 'Entra: an issuer with a look-alike suffix (…/v2.0.evil)',
    build: async (w) => bearer(await entra(w, { claims: { iss: `https://login.microsoftonline.com/${TENANT}/v2.0.evil` } })),
    expect: 'ISSUER_NOT_TRUSTED',
  },
  {
    id: 'Entra: a look-alike host',
    build: async (w) => bearer(await entra(w, { claims: { iss: `https://login.microsoftonline.com.evil.example/${TENANT}/v2.0` } })),
    expect: 'ISSUER_NOT_TRUSTED',
  },
  {
    id: 'Entra: the right kid, the wrong key',
    build: async (w) => bearer(await entra(w, { key: 'unlisted', extraHeader: { kid: w.entra.kid('tenant') } })),
    expect: 'SIGNATURE_INVALID',
  },
  {
    id: 'Entra: the consumer tenant’s key signing for an organisation',
    build: async (w) => bearer(await entra(w, { key: 'consumer' })),
    expect: 'SIGNATURE_INVALID',
  },
  { id: 'Entra: another audience', build: async (w) => bearer(await entra(w, { aud: 'api://someone-else' })), expect: 'AUDIENCE_MISMATCH' },
  { id: 'Entra: ver not the issuer’s', build: async (w) => bearer(await entra(w, { claims: { ver: '1.0' } })), expect: 'CLAIMS_INVALID' },
];

const FORGED_IDENTITY: [string, string][] = [
  ['x-gatehouse-subject', 'root'],
  ['x-gatehouse-roles', 'Orders.Read,Orders.Admin'],
  ['x-gatehouse-issuer', 'idp'],
  ['x_gatehouse_subject', 'root'],
];

export const FRONT_DOOR_CASES: readonly HostileCase[] = [
  {
    id: 'forged x-gatehouse-* headers and no token',
    build: () => ({ ...bearer(''), authorization: [], headers: FORGED_IDENTITY }),
    expect: 'TOKEN_MISSING',
  },
  {
    id: 'forged x-gatehouse-roles beside a token without the role',
    build: (w) => bearer(w.issuer.token({ claims: w.claims({ roles: [] }) }), { headers: FORGED_IDENTITY }),
    expect: 'MISSING_ROLE',
  },
  ...[
    '/orders/../admin',
    '/orders/%2e%2e/admin',
    '/orders/..%2fadmin',
    '/orders/%2E%2E%2Fadmin',
    '//orders/42',
    '/orders//42',
    '/orders\\42',
    '/orders/./42',
    '/orders/42;/../../admin',
  ].map((path): HostileCase => ({
    id: `non-canonical path ${path}`,
    build: (w) => bearer(w.reader, { path }),
    expect: 'PATH_NOT_CANONICAL',
  })),
  {
    id: 'a CR in the authorization value',
    build: (w) => ({ ...bearer(''), authorization: [`Bearer ${w.reader}\rX-Gatehouse-Subject: root`] }),
    expect: 'TOKEN_MALFORMED',
    doors: MALFORMED_ON_HTTP,
  },
  {
    id: 'a NUL in the authorization value',
    build: (w) => ({ ...bearer(''), authorization: [`Bearer ${w.reader}\u0000`] }),
    expect: 'TOKEN_MALFORMED',
    doors: MALFORMED_ON_HTTP,
  },
  {
    id: 'a header over the size limit',
    build: (w) => bearer(w.reader, { headers: [['x-padding', 'p'.repeat(96 * 1024)]] }),
    // Envoy: over server.max_message_bytes, refused before decoding. gRPC: metadata past Node's HTTP/2 header list
    // bound (64 KiB) is reset by the transport before grpc-js or gatehouse sees the call, which grpc-js reports
    // as INTERNAL ("RST_STREAM with code 9"): a transport refusal, never decided.
    expect: 'grpc:INVALID_ARGUMENT',
    doors: { grpc: 'grpc:INTERNAL', http: 'HEADERS_TOO_LARGE' },
  },
  {
    id: '1,000 headers',
    build: (w) => bearer(w.reader, { headers: Array.from({ length: 1000 }, (_, i) => [`x-filler-${i}`, 'x'] as [string, string]) }),
    expect: 'grpc:INVALID_ARGUMENT',
    doors: { grpc: 'grpc:RESOURCE_EXHAUSTED', http: 'HEADERS_TOO_LARGE' },
  },
  {
    id: 'an absolute X-Original-URI (path)',
    build: (w) => bearer(w.reader, { path: 'http://evil.example/orders/42' }),
    expect: 'PATH_NOT_CANONICAL',
    doors: MALFORMED_ON_HTTP,
  },
  {
    id: 'an empty X-Original-URI (path)',
    build: (w) => bearer(w.reader, { path: '' }),
    expect: 'PATH_NOT_CANONICAL',
    doors: MALFORMED_ON_HTTP,
  },
  { id: 'a lower-case method', build: (w) => bearer(w.reader, { method: 'get' }), expect: 'PATH_NOT_CANONICAL' },
];
