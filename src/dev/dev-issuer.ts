/**
 * A local OpenID issuer for `gatehouse dev` and tests: discovery, JWKS, a mint endpoint that signs whatever
 * token you ask for, and the OAuth2 client credentials grant for a few dev clients (as Entra ID does it,
 * `scope=api://orders/.default`). It binds 127.0.0.1 only and refuses non-loopback peers and foreign Host
 * headers (DNS rebinding): anyone who can reach /mint can become anyone. Never run it in production.
 */
import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createDevSigner, parseMintBody, type MintOptions } from './dev-signer.js';

export { DEV_TENANT_ID, type MintOptions } from './dev-signer.js';

/** A confidential client allowed the client credentials grant. */
export interface DevClient {
  readonly clientId: string;
  readonly clientSecret: string;
  /** App roles put in its tokens' `roles` claim. */
  readonly roles?: readonly string[];
}

/** The clients `gatehouse dev` knows unless given others. */
export const DEFAULT_DEV_CLIENTS: readonly DevClient[] = [
  { clientId: 'storefront', clientSecret: 'storefront-secret', roles: ['Orders.Read'] },
  { clientId: 'back-office', clientSecret: 'back-office-secret', roles: ['Orders.Admin'] },
];

export interface DevIssuerOptions {
  /** 0 picks a free port. */
  readonly port: number;
  readonly clients?: readonly DevClient[];
  /** Lifetime of client credentials tokens; default 3600 s. */
  readonly tokenTtlSeconds?: number;
}

export interface DevIssuer {
  /** `http://127.0.0.1:PORT`: the issuer identifier, every token's `iss`. */
  readonly url: string;
  readonly port: number;
  readonly clients: readonly DevClient[];
  /** Signs a token in-process (what `POST /mint` does). */
  mint(options: MintOptions): Promise<string>;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 64 * 1024;
const LOOPBACK_PEERS = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

export async function startDevIssuer(options: DevIssuerOptions, env: NodeJS.ProcessEnv = process.env): Promise<DevIssuer> {
  // Also here, not only in `gatehouse dev`: anything that embeds the dev issuer is refused in production.
  if (env.NODE_ENV === 'production') throw new Error('the dev issuer signs any token it is asked for: refused with NODE_ENV=production');
  const signer = await createDevSigner();
  const clients = options.clients ?? DEFAULT_DEV_CLIENTS;
  const tokenTtl = options.tokenTtlSeconds ?? 3600;
  let url = '';
  let hostHeaders = new Set<string>();

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (res.headersSent) res.destroy();
      else send(res, 500, { error: 'server_error' });
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!LOOPBACK_PEERS.has(req.socket.remoteAddress ?? '') || !hostHeaders.has(req.headers.host ?? '')) {
      send(res, 403, { error: 'forbidden', error_description: 'the dev issuer serves loopback only' });
      return;
    }
    const path = new URL(req.url ?? '/', url).pathname;
    const route = `${req.method} ${path}`;
    switch (route) {
      case 'GET /.well-known/openid-configuration':
        send(res, 200, discovery(url));
        return;
      case 'GET /jwks':
        send(res, 200, signer.jwks);
        return;
      case 'POST /mint':
        await mintRoute(req, res);
        return;
      case 'POST /oauth2/token':
        await tokenRoute(req, res);
        return;
    }
    const known = ['/.well-known/openid-configuration', '/jwks', '/mint', '/oauth2/token'];
    if (known.includes(path)) send(res, 405, { error: 'method_not_allowed' });
    else send(res, 404, { error: 'not_found' });
  }

  async function mintRoute(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // A browser cannot send application/json cross-origin without a preflight, which is never answered.
    if (!isContentType(req, 'application/json')) {
      send(res, 415, { error: 'invalid_request', error_description: 'send the body as application/json' });
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(await readBody(req));
    } catch {
      send(res, 400, { error: 'invalid_request', error_description: 'the body is not JSON (or larger than 64 KiB)' });
      return;
    }
    const mintOptions = parseMintBody(parsed);
    if (typeof mintOptions === 'string') {
      send(res, 400, { error: 'invalid_request', error_description: mintOptions });
      return;
    }
    send(res, 200, { token: await signer.sign(url, mintOptions) });
  }

  async function tokenRoute(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!isContentType(req, 'application/x-www-form-urlencoded')) {
      send(res, 400, { error: 'invalid_request', error_description: 'send the body as application/x-www-form-urlencoded' });
      return;
    }
    let form: URLSearchParams;
    try {
      form = new URLSearchParams(await readBody(req));
    } catch {
      send(res, 400, { error: 'invalid_request', error_description: 'the body is larger than 64 KiB' });
      return;
    }
    const outcome = clientCredentials(form, req.headers.authorization, clients);
    if ('error' in outcome) {
      const headers: Record<string, string> =
        outcome.status === 401 && req.headers.authorization ? { 'www-authenticate': 'Basic realm="gatehouse-dev"' } : {};
      send(res, outcome.status, { error: outcome.error, error_description: outcome.description }, headers);
      return;
    }
    const { client, audience } = outcome;
    const accessToken = await signer.sign(url, {
      sub: client.clientId,
      azp: client.clientId,
      app: true,
      aud: audience,
      roles: client.roles ?? [],
      ttlSeconds: tokenTtl,
    });
    send(res, 200, { access_token: accessToken, token_type: 'Bearer', expires_in: tokenTtl });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  url = `http://127.0.0.1:${port}`;
  hostHeaders = new Set([`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]);

  return {
    url,
    port,
    clients,
    mint: (mintOptions) => signer.sign(url, mintOptions),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // gatehouse keeps its discovery/JWKS connections alive; do not wait for their idle timeout.
        server.closeAllConnections();
      }),
  };
}

function discovery(url: string) {
  return {
    issuer: url,
    jwks_uri: `${url}/jwks`,
    token_endpoint: `${url}/oauth2/token`,
    grant_types_supported: ['client_credentials'],
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    response_types_supported: ['token'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: ['RS256'],
  };
}

type GrantOutcome =
  | { readonly client: DevClient; readonly audience: string }
  | { readonly status: 400 | 401; readonly error: string; readonly description: string };

/** RFC 6749 §4.4 with Entra's convention: the scope `RESOURCE/.default` asks for a token whose `aud` is RESOURCE. */
function clientCredentials(form: URLSearchParams, authorization: string | undefined, clients: readonly DevClient[]): GrantOutcome {
  if (form.get('grant_type') !== 'client_credentials') {
    return { status: 400, error: 'unsupported_grant_type', description: 'only grant_type=client_credentials is supported' };
  }
  const basic = parseBasic(authorization);
  if (basic && form.has('client_secret')) {
    return { status: 400, error: 'invalid_request', description: 'use one client authentication method, not two' };
  }
  const clientId = basic?.id ?? form.get('client_id') ?? '';
  const secret = basic?.secret ?? form.get('client_secret') ?? '';
  const client = clients.find((c) => c.clientId === clientId);
  if (!client || !sameSecret(client.clientSecret, secret)) {
    return { status: 401, error: 'invalid_client', description: 'unknown client or wrong secret' };
  }
  const scopes = (form.get('scope') ?? '').split(' ').filter((s) => s !== '');
  const resource = scopes.length === 1 && scopes[0]!.endsWith('/.default') ? scopes[0]!.slice(0, -'/.default'.length) : '';
  if (!resource) {
    return { status: 400, error: 'invalid_scope', description: 'ask for exactly one scope RESOURCE/.default (e.g. api://orders/.default)' };
  }
  return { client, audience: resource };
}

function parseBasic(header: string | undefined): { id: string; secret: string } | undefined {
  const match = /^Basic\s+(\S+)$/i.exec(header ?? '');
  if (!match) return undefined;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  // RFC 6749 §2.3.1: both parts are form-urlencoded before base64.
  const unescape = (s: string) => decodeURIComponent(s.replace(/\+/g, ' '));
  try {
    return { id: unescape(decoded.slice(0, colon)), secret: unescape(decoded.slice(colon + 1)) };
  } catch {
    return undefined;
  }
}

function sameSecret(expected: string, given: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

function isContentType(req: IncomingMessage, type: string): boolean {
  return (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase() === type;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new Error('body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers }).end(`${JSON.stringify(body)}\n`);
}
