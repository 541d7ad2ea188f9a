/**
 * A minimal OIDC issuer on 127.0.0.1:0 whose private keys the test holds, so hostile tokens can be built
 * byte by byte (any header, any payload, any signature) and still carry a signature the issuer's JWKS verifies.
 */
import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** `rsa` (RS256) and `ec` (ES256) are published; `stranger` is an RSA key the issuer never published. */
export type LoopbackKey = 'rsa' | 'ec' | 'stranger';

export const LOOPBACK_AUDIENCE = 'https://api.gatehouse.test';

export interface LoopbackIssuer {
  /** `http://127.0.0.1:PORT`: the configured issuer and every token's `iss`. */
  readonly issuer: string;
  kid(key: LoopbackKey): string;
  /** The SPKI PEM of a key's public half (what an HS256 key-confusion attack signs with). */
  publicPem(key: LoopbackKey): string;
  /** A valid token: `iss`, `sub`, `aud`, `iat`, `nbf`, `exp` (an hour), header `alg` + `kid`; `now` in epoch seconds. */
  token(opts?: { key?: LoopbackKey; claims?: Record<string, unknown>; header?: Record<string, unknown>; now?: number }): string;
  /** Signs `headerB64.payloadB64` (already encoded, taken as they are) with a key, giving the compact token. */
  signParts(headerB64: string, payloadB64: string, key: LoopbackKey): string;
  jwksRequests(): number;
  /** Replaces a published key's material, keeping its `kid` (a rotation the `kid` does not show). */
  replaceKey(key: 'rsa' | 'ec'): void;
  /** Publishes a key with another `alg`, same material and `kid` (a provider narrowing what the key may sign). */
  publishAlg(key: 'rsa' | 'ec', alg: string): void;
  /** While down, every response is a 503. */
  setDown(down: boolean): void;
  /** While held, requests get no response (a slow provider); `release()` answers them all, as they would have been. */
  hold(): void;
  release(): void;
  close(): Promise<void>;
}

/** base64url of a value's JSON, or of a string's UTF-8 bytes as they are. */
export function b64(value: unknown): string {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value), 'utf8').toString('base64url');
}

interface HeldKey {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  readonly kid: string;
  readonly alg: 'RS256' | 'ES256';
  /** The `alg` the JWKS says, when not `alg`. */
  readonly publishedAlg?: string;
}

function newKey(type: 'rsa' | 'ec'): HeldKey {
  const { privateKey, publicKey } =
    type === 'rsa' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const der = publicKey.export({ format: 'der', type: 'spki' });
  return {
    privateKey,
    publicKey,
    kid: createHash('sha256').update(der).digest('base64url').slice(0, 16),
    alg: type === 'rsa' ? 'RS256' : 'ES256',
  };
}

export interface LoopbackIssuerOptions {
  /** The keys the JWKS publishes; default both `rsa` and `ec`. */
  readonly publish?: readonly ('rsa' | 'ec')[];
  /** false: the JWKS names no `kid` (mint with `header: { kid: undefined }` to match); default true. */
  readonly kids?: boolean;
}

export async function startLoopbackIssuer(options: LoopbackIssuerOptions = {}): Promise<LoopbackIssuer> {
  const { publish = ['rsa', 'ec'], kids = true } = options;
  const keys: Record<LoopbackKey, HeldKey> = { rsa: newKey('rsa'), ec: newKey('ec'), stranger: newKey('rsa') };
  let down = false;
  let jwksGets = 0;
  let heldResponses: (() => void)[] | undefined;

  const server = createServer((req, res) => {
    if (heldResponses) {
      heldResponses.push(() => answer(req, res));
      return;
    }
    answer(req, res);
  });
  function answer(req: IncomingMessage, res: ServerResponse): void {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (path === '/jwks') jwksGets += 1;
    if (down) return send(503, { error: 'temporarily_unavailable' });
    if (path === '/.well-known/openid-configuration') return send(200, { issuer, jwks_uri: `${issuer}/jwks` });
    if (path === '/jwks') {
      const published = publish.map((name) => ({
        ...keys[name].publicKey.export({ format: 'jwk' }),
        ...(kids ? { kid: keys[name].kid } : {}),
        alg: keys[name].publishedAlg ?? keys[name].alg,
        use: 'sig',
      }));
      return send(200, { keys: published });
    }
    return send(404, { error: 'not_found' });
  }
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  function signParts(headerB64: string, payloadB64: string, name: LoopbackKey): string {
    const key = keys[name];
    const input = Buffer.from(`${headerB64}.${payloadB64}`, 'latin1');
    const signature =
      key.alg === 'RS256'
        ? sign('sha256', input, key.privateKey)
        : sign('sha256', input, { key: key.privateKey, dsaEncoding: 'ieee-p1363' });
    return `${headerB64}.${payloadB64}.${signature.toString('base64url')}`;
  }

  return {
    issuer,
    kid: (name) => keys[name].kid,
    publicPem: (name) => keys[name].publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    token({ key = 'rsa', claims = {}, header = {}, now = Math.floor(Date.now() / 1000) } = {}) {
      const held = keys[key];
      const payload = { iss: issuer, sub: 'svc-orders', aud: LOOPBACK_AUDIENCE, iat: now, nbf: now, exp: now + 3600, ...claims };
      return signParts(b64({ alg: held.alg, kid: held.kid, ...header }), b64(payload), key);
    },
    signParts,
    jwksRequests: () => jwksGets,
    replaceKey(name) {
      keys[name] = { ...newKey(keys[name].alg === 'RS256' ? 'rsa' : 'ec'), kid: keys[name].kid };
    },
    publishAlg(name, alg) {
      keys[name] = { ...keys[name], publishedAlg: alg };
    },
    setDown(value) {
      down = value;
    },
    hold() {
      heldResponses ??= [];
    },
    release() {
      const waiting = heldResponses ?? [];
      heldResponses = undefined;
      for (const respond of waiting) respond();
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
