import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A client registered at the test provider; it may only use the client_credentials grant. */
export interface TestOidcClient {
  client_id: string;
  /** For secret clients. */
  client_secret?: string;
  /** For certificate clients: the public key(s) their `private_key_jwt` assertions are checked against. */
  jwks?: { keys: Record<string, unknown>[] };
  /** Added to every access token this client gets, as the `roles` claim. */
  roles?: string[];
  /** Space-separated scopes the client may ask for; when absent, any requested scope is granted. */
  scope?: string;
  /** How the client authenticates at the token endpoint; default `client_secret_basic`. */
  token_endpoint_auth_method?: 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt';
}

export interface StartOidcProviderOptions {
  /** Default: one client `test-client` / `test-secret` with no roles. */
  clients?: TestOidcClient[];
  /** Resource indicators (token audiences) the provider accepts; when absent, any absolute URI. */
  resources?: string[];
  /** Access token lifetime in seconds; default 3600. */
  accessTokenTTL?: number;
}

export interface TestOidcProvider {
  /** `http://127.0.0.1:PORT`, the `iss` of every token. */
  issuer: string;
  tokenEndpoint: string;
  jwksUri: string;
  /** A client-credentials access token (RFC 9068 JWT) for `resource`, which becomes `aud`. */
  token(opts: { clientId?: string; resource: string; scope?: string }): Promise<string>;
  /** Replaces the signing key with a fresh one (new `kid`); the previous key leaves the JWKS. */
  rotateKeys(): Promise<void>;
  /** Changes a registered client's secret; the old secret stops working at once. */
  setClientSecret(clientId: string, secret: string): Promise<void>;
  /** The `kid`s currently in the provider's JWKS. */
  currentKids(): string[];
  /** Count of GETs of the JWKS endpoint so far. */
  jwksRequests(): number;
  close(): Promise<void>;
}

type NodeHandler = (req: IncomingMessage, res: ServerResponse) => void;

// oidc-provider ships no type declarations; this is the part of its surface the helper touches.
interface ProviderInstance {
  callback(): NodeHandler;
}
interface OidcProviderModule {
  default: new (issuer: string, configuration: Record<string, unknown>) => ProviderInstance;
  errors: { InvalidTarget: new (description?: string) => Error };
}
interface ProviderClient {
  clientId: string;
  scope?: string;
}
interface ProviderContext {
  oidc?: { params?: { scope?: unknown } };
}

let modulePromise: Promise<OidcProviderModule> | undefined;

/** Imports oidc-provider once, dropping only its "unsupported runtime" warning (it wants Node 22; 20 works). */
function loadOidcProvider(): Promise<OidcProviderModule> {
  modulePromise ??= (async () => {
    // A non-literal specifier keeps tsc from demanding declarations for the untyped package.
    const specifier: string = 'oidc-provider';
    const warn = console.warn;
    console.warn = (...args: unknown[]) => {
      const [first] = args;
      if (typeof first === 'string' && first.includes('oidc-provider WARNING: Unsupported runtime')) return;
      warn.apply(console, args);
    };
    try {
      return (await import(specifier)) as OidcProviderModule;
    } finally {
      console.warn = warn;
    }
  })();
  return modulePromise;
}

function newSigningJwk(): Record<string, unknown> {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), kid: randomUUID(), alg: 'RS256', use: 'sig' };
}

/**
 * A Map-backed storage adapter, one store per started provider. The built-in dev adapter would log a
 * warning on every construction (and rotation constructs again); client-credentials JWTs need no storage.
 */
function mapAdapter(): new (model: string) => object {
  const store = new Map<string, unknown>();
  return class MapAdapter {
    constructor(private readonly model: string) {}
    async upsert(id: string, payload: unknown): Promise<void> {
      store.set(`${this.model}:${id}`, payload);
    }
    async find(id: string): Promise<unknown> {
      return store.get(`${this.model}:${id}`);
    }
    async findByUserCode(): Promise<undefined> {
      return undefined;
    }
    async findByUid(): Promise<undefined> {
      return undefined;
    }
    async consume(): Promise<void> {}
    async destroy(id: string): Promise<void> {
      store.delete(`${this.model}:${id}`);
    }
    async revokeByGrantId(): Promise<void> {}
  };
}

/** Starts a real oidc-provider on 127.0.0.1 (port 0) that issues JWT access tokens by client credentials. */
export async function startOidcProvider(opts: StartOidcProviderOptions = {}): Promise<TestOidcProvider> {
  const { default: Provider, errors } = await loadOidcProvider();
  const clients = new Map<string, TestOidcClient>();
  for (const client of opts.clients ?? [{ client_id: 'test-client', client_secret: 'test-secret' }]) {
    clients.set(client.client_id, { ...client });
  }
  const resources = opts.resources ? new Set(opts.resources) : undefined;
  const accessTokenTTL = opts.accessTokenTTL ?? 3600;
  const adapter = mapAdapter();
  let signingKey = newSigningJwk();
  let jwksGets = 0;
  let handler: NodeHandler = (_req, res) => {
    res.statusCode = 503;
    res.end();
  };

  const server = createServer((req, res) => {
    if (req.method === 'GET' && new URL(req.url ?? '/', 'http://x').pathname === '/jwks') jwksGets += 1;
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const issuer = `http://127.0.0.1:${port}`;

  // oidc-provider fixes keys and client metadata at construction, so a change means a new instance
  // behind the same listening socket.
  function build(): void {
    const registered = [...clients.values()];
    const clientScopes = registered.flatMap((c) => (c.scope ? c.scope.split(' ') : []));
    const provider = new Provider(issuer, {
      adapter,
      ttl: { ClientCredentials: accessTokenTTL },
      jwks: { keys: [signingKey] },
      scopes: [...new Set(['openid', 'offline_access', ...clientScopes])],
      clients: registered.map((c) => ({
        client_id: c.client_id,
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
        ...(c.jwks
          ? { token_endpoint_auth_method: 'private_key_jwt', token_endpoint_auth_signing_alg: 'RS256', jwks: c.jwks }
          : { token_endpoint_auth_method: c.token_endpoint_auth_method ?? 'client_secret_basic', client_secret: c.client_secret }),
        ...(c.scope ? { scope: c.scope } : {}),
      })),
      features: {
        devInteractions: { enabled: false },
        clientCredentials: { enabled: true },
        resourceIndicators: {
          enabled: true,
          defaultResource: async () => undefined,
          useGrantedResource: async () => false,
          getResourceServerInfo: async (ctx: ProviderContext, resource: string, client: ProviderClient) => {
            if (resources && !resources.has(resource)) throw new errors.InvalidTarget();
            const requested = typeof ctx.oidc?.params?.scope === 'string' ? ctx.oidc.params.scope : '';
            return {
              scope: client.scope ?? requested,
              audience: resource,
              accessTokenTTL,
              accessTokenFormat: 'jwt',
              jwt: { sign: { alg: 'RS256' } },
            };
          },
        },
      },
      extraTokenClaims: async (_ctx: unknown, token: { clientId?: string }) => {
        const roles = token.clientId ? clients.get(token.clientId)?.roles : undefined;
        return roles ? { roles: [...roles] } : undefined;
      },
    });
    handler = provider.callback();
  }
  build();

  const tokenEndpoint = `${issuer}/token`;
  return {
    issuer,
    tokenEndpoint,
    jwksUri: `${issuer}/jwks`,
    async token({ clientId, resource, scope }) {
      const client = clients.get(clientId ?? [...clients.keys()][0] ?? '');
      if (!client) throw new Error(`unknown client ${clientId ?? '(none registered)'}`);
      if (client.client_secret === undefined)
        throw new Error(`${client.client_id} authenticates by certificate: use a client library provider`);
      const body = new URLSearchParams({ grant_type: 'client_credentials', resource });
      if (scope) body.set('scope', scope);
      const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
      if (client.token_endpoint_auth_method === 'client_secret_post') {
        body.set('client_id', client.client_id);
        body.set('client_secret', client.client_secret);
      } else {
        const user = encodeURIComponent(client.client_id);
        const pass = encodeURIComponent(client.client_secret);
        headers.authorization = `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
      }
      const res = await fetch(tokenEndpoint, { method: 'POST', headers, body });
      const json = (await res.json()) as { access_token?: string; error?: string; error_description?: string };
      if (!res.ok || !json.access_token) {
        throw new Error(`token request failed: ${res.status} ${json.error ?? ''} ${json.error_description ?? ''}`);
      }
      return json.access_token;
    },
    async rotateKeys() {
      signingKey = newSigningJwk();
      build();
    },
    async setClientSecret(clientId, secret) {
      const client = clients.get(clientId);
      if (!client) throw new Error(`unknown client ${clientId}`);
      client.client_secret = secret;
      build();
    },
    currentKids: () => [String(signingKey.kid)],
    jwksRequests: () => jwksGets,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
