import { createHash, randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type RequestListener, type Server } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { createTokenEndpoint, type EntraApp, type ReceivedTokenRequest } from './entra-token-endpoint.js';

export type { EntraApp, FederatedCredential, ReceivedTokenRequest } from './entra-token-endpoint.js';

/** The tenant of personal Microsoft accounts; only its own keys may sign its tokens. */
export const CONSUMER_TENANT_ID = '9188040d-6c67-4c5b-b112-36a304b66dad';
/** Defaults for the app and object ids in minted tokens (`azp`/`appid`, `oid`/`sub`). */
export const DEFAULT_CLIENT_ID = 'c0ffee00-0000-4000-8000-00000000a991';
export const DEFAULT_OBJECT_ID = 'c0ffee00-0000-4000-8000-0000000000b1';

/**
 * The helper's signing keys. `tenant` is published with the `{tenantid}` issuer template, `consumer` with
 * the consumer tenant's issuer; `unlisted` is not in the JWKS until `setKeyPublished('unlisted', true)`.
 */
export type EntraTestKey = 'tenant' | 'consumer' | 'unlisted';

export interface MintOptions {
  version: 1 | 2;
  tid: string;
  aud: string;
  /** Default `tenant`. */
  key?: EntraTestKey;
  /** Which key id header(s) to send; default `kid` for v2, `both` (kid and x5t) for v1, as Entra does. */
  header?: 'kid' | 'x5t' | 'both';
  /** Merged over the defaults (so they can replace `iss`, `ver`, …); e.g. `{ roles: [...] }` or `{ scp: '...' }`. */
  claims?: Record<string, unknown>;
  /** The clock in epoch seconds; default the real time. */
  now?: number;
  /** `exp` = now + expiresIn; default 3600. */
  expiresIn?: number;
  /** Epoch seconds; default now. */
  notBefore?: number;
  /** Epoch seconds; default now. */
  issuedAt?: number;
  /** Claim names to drop after defaults and `claims` are applied, e.g. `['exp']`. */
  omit?: string[];
  /** Merged into the protected header, e.g. `{ nonce: 'x' }`; may override `typ` or `alg`. */
  extraHeader?: Record<string, unknown>;
}

export interface EntraServerOptions {
  /** Also serve everything over https (PEM certificate and key for 127.0.0.1), as MSAL only talks to https. */
  tls?: { cert: string; key: string };
}

export interface EntraServer {
  /** `http://127.0.0.1:PORT`: use it as the Entra authority. */
  base: string;
  /** `https://127.0.0.1:PORT`, when started with `tls`: the same documents, naming https endpoints. */
  httpsBase: string | undefined;
  /** Registers an app the token endpoint (`POST /{tenant}/oauth2/v2.0/token`) issues tokens to. */
  registerApp(app: EntraApp): void;
  /** Every token request received so far, in order. */
  tokenRequests(): readonly ReceivedTokenRequest[];
  /** Mints an Entra-shaped token signed by one of the helper's keys. */
  mint(opts: MintOptions): Promise<string>;
  /** The key id (kid = x5t) of one of the helper's keys. */
  kid(key: EntraTestKey): string;
  /** Adds a helper key to, or removes it from, both served JWKS. */
  setKeyPublished(key: EntraTestKey, published: boolean): void;
  /** Requests received so far: all of them, or those for one exact path (e.g. `/common/discovery/v2.0/keys`). */
  requests(path?: string): number;
  /** While down, every response is a 503 (an identity-provider outage). */
  setDown(down: boolean): void;
  close(): Promise<void>;
}

const MICROSOFT = 'https://login.microsoftonline.com';
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const TENANT_ALIASES = new Set(['common', 'organizations', 'consumers']);
const ROUTES = new Map<string, 'v2-openid-configuration' | 'v1-openid-configuration' | 'v2-keys' | 'v1-keys'>([
  ['v2.0/.well-known/openid-configuration', 'v2-openid-configuration'],
  ['.well-known/openid-configuration', 'v1-openid-configuration'],
  ['discovery/v2.0/keys', 'v2-keys'],
  ['discovery/keys', 'v1-keys'],
]);

interface TestKey {
  privateKey: CryptoKey;
  /** kty, n, e, kid, x5t: what the JWKS publishes. */
  publicJwk: JWK;
  kid: string;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

async function newTestKey(): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const { kty, n, e } = await exportJWK(publicKey);
  // Entra's kid is the x5t, a base64url SHA-1 certificate thumbprint; these keys have no certificate,
  // so the thumbprint is taken over the modulus instead: same shape, stable for the key.
  const kid = createHash('sha1').update(String(n)).digest('base64url');
  return { privateKey, kid, publicJwk: { kty, use: 'sig', kid, x5t: kid, n, e } };
}

async function readVectors(): Promise<Record<string, Json>> {
  const dir = new URL('../fixtures/entra/entra-common-2024/', import.meta.url);
  const names = ['v2-openid-configuration', 'v1-openid-configuration', 'v2-keys', 'v1-keys'];
  const entries = await Promise.all(
    names.map(async (name) => [name, JSON.parse(await readFile(new URL(`${name}.json`, dir), 'utf8')) as Json]),
  );
  return Object.fromEntries(entries) as Record<string, Json>;
}

/** Rewrites Microsoft URLs to the local server, as Entra fills in the requested tenant: `/common/…` → `/{tenant}/…`. */
function localise(value: Json, base: string, tenant: string): Json {
  if (typeof value === 'string') {
    const common = `${MICROSOFT}/common/`;
    if (value.startsWith(common)) return `${base}/${tenant}/${value.slice(common.length)}`;
    return value.startsWith(MICROSOFT) ? base + value.slice(MICROSOFT.length) : value;
  }
  if (Array.isArray(value)) return value.map((item) => localise(item, base, tenant));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, localise(v, base, tenant)]));
  }
  return value;
}

/**
 * Starts a loopback server with Microsoft's captured Entra discovery documents and JWKS (plus the helper's
 * own keys) in the URL layout of login.microsoftonline.com, so the full Entra path runs offline; its token
 * endpoint (entra-token-endpoint.ts) issues app tokens to registered apps. With `tls` it also listens over
 * https, for clients such as MSAL that refuse a plain http authority.
 */
export async function startEntraServer(options: EntraServerOptions = {}): Promise<EntraServer> {
  const vectors = await readVectors();
  const keys: Record<EntraTestKey, TestKey> = {
    tenant: await newTestKey(),
    consumer: await newTestKey(),
    unlisted: await newTestKey(),
  };
  const published = new Set<EntraTestKey>(['tenant', 'consumer']);
  const counts = new Map<string, number>();
  let total = 0;
  let down = false;

  function keyIssuer(name: EntraTestKey): string {
    return name === 'consumer' ? `${MICROSOFT}/${CONSUMER_TENANT_ID}/v2.0` : `${MICROSOFT}/{tenantid}/v2.0`;
  }

  function document(route: string, tenant: string, base: string): Json {
    const vector = vectors[route];
    if (route.endsWith('-keys')) {
      const injected = [...published].map((name) =>
        route === 'v2-keys' ? { ...keys[name].publicJwk, issuer: keyIssuer(name) } : { ...keys[name].publicJwk },
      );
      const listed = (vector as { keys: Json[] }).keys;
      return { keys: [...listed, ...(injected as Json[])] };
    }
    const { issuer, ...rest } = vector as Record<string, Json>;
    // `issuer` stays Microsoft's: it is what real tokens carry. Tenant-specific endpoints name the tenant
    // in it; the multi-tenant ones keep the {tenantid} template.
    const tenantId = tenant === 'consumers' ? CONSUMER_TENANT_ID : GUID.test(tenant) ? tenant.toLowerCase() : undefined;
    const localIssuer = tenantId && typeof issuer === 'string' ? issuer.replace('{tenantid}', tenantId) : issuer;
    return { ...(localise(rest, base, tenant) as Record<string, Json>), issuer: localIssuer ?? null };
  }

  const tokenEndpoint = createTokenEndpoint((opts) => mint({ version: 2, ...opts }));

  const handler =
    (baseOf: () => string): RequestListener =>
    (req, res) => {
      const path = new URL(req.url ?? '/', 'http://localhost').pathname;
      total += 1;
      counts.set(path, (counts.get(path) ?? 0) + 1);
      const send = (status: number, body: Json): void => {
        res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
        res.end(JSON.stringify(body));
      };
      if (down) return send(503, { error: 'temporarily_unavailable' });
      const token = /^\/([^/]+)\/oauth2\/v2\.0\/token$/.exec(path);
      if (token && req.method === 'POST') {
        void readBody(req)
          .then((body) => tokenEndpoint.handle(token[1]!, body, req.headers.authorization))
          .then(
            (answer) => send(answer.status, answer.body as Json),
            () => send(500, { error: 'server_error' }),
          );
        return;
      }
      if (req.method !== 'GET') return send(405, { error: 'method_not_allowed' });
      const match = /^\/([^/]+)\/(.+)$/.exec(path);
      const route = match?.[2] === undefined ? undefined : ROUTES.get(match[2]);
      const tenant = match?.[1];
      if (!route || tenant === undefined) return send(404, { error: 'not_found' });
      if (!GUID.test(tenant) && !TENANT_ALIASES.has(tenant)) {
        return send(400, { error: 'invalid_tenant', error_description: `AADSTS90002: Tenant '${tenant}' not found.` });
      }
      return send(200, document(route, tenant, baseOf()));
    };
  let base = '';
  let httpsBase: string | undefined;
  const server = createServer(handler(() => base));
  const tlsServer = options.tls
    ? createTlsServer(
        { ...options.tls },
        handler(() => httpsBase ?? ''),
      )
    : undefined;
  base = `http://127.0.0.1:${await listen(server)}`;
  if (tlsServer) httpsBase = `https://127.0.0.1:${await listen(tlsServer)}`;

  async function mint(opts: MintOptions): Promise<string> {
    const key = keys[opts.key ?? 'tenant'];
    const now = opts.now ?? Math.floor(Date.now() / 1000);
    const v2 = opts.version === 2;
    const defaults: Record<string, unknown> = {
      aud: opts.aud,
      iss: v2 ? `${MICROSOFT}/${opts.tid}/v2.0` : `https://sts.windows.net/${opts.tid}/`,
      iat: opts.issuedAt ?? now,
      nbf: opts.notBefore ?? now,
      exp: now + (opts.expiresIn ?? 3600),
      ...(v2 ? { azp: DEFAULT_CLIENT_ID, azpacr: '1' } : { appid: DEFAULT_CLIENT_ID, appidacr: '1' }),
      oid: DEFAULT_OBJECT_ID,
      sub: DEFAULT_OBJECT_ID,
      tid: opts.tid,
      uti: randomUUID().replaceAll('-', '').slice(0, 22),
      ver: v2 ? '2.0' : '1.0',
    };
    const payload = { ...defaults, ...opts.claims };
    for (const name of opts.omit ?? []) delete payload[name];
    const ids = opts.header ?? (v2 ? 'kid' : 'both');
    return new SignJWT(payload)
      .setProtectedHeader({
        alg: 'RS256',
        typ: 'JWT',
        ...(ids === 'x5t' ? {} : { kid: key.kid }),
        ...(ids === 'kid' ? {} : { x5t: key.kid }),
        ...opts.extraHeader,
      })
      .sign(key.privateKey);
  }

  return {
    base,
    httpsBase,
    registerApp: (app) => tokenEndpoint.register(app),
    tokenRequests: () => tokenEndpoint.received,
    mint,
    kid: (name) => keys[name].kid,
    setKeyPublished(name, isPublished) {
      if (isPublished) published.add(name);
      else published.delete(name);
    },
    requests: (path) => (path === undefined ? total : (counts.get(path) ?? 0)),
    setDown(value) {
      down = value;
    },
    close: async () => {
      await Promise.all([server, tlsServer].map((s) => (s ? close(s) : undefined)));
    },
  };
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

function close(server: Server): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.close((err) => (err ? reject(err) : resolve()));
    server.closeAllConnections();
  });
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
