/**
 * An OIDC provider on 127.0.0.1:0 that can misbehave on demand: down, slow, answering garbage (HTML, 2 MB, invalid
 * JSON, keys without `n`, 500s, a redirect to another host), naming a `jwks_uri` on another host, rotating and
 * removing keys. It signs RS256 tokens with the keys it publishes, and counts what it is asked.
 */
import { generateKeyPairSync, randomUUID, sign, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { b64 } from '../verification/loopback-issuer.js';

export const PROVIDER_AUDIENCE = 'https://api.gatehouse.test';

/** How the provider answers every request (`ok`: as a provider should). */
export type Fault =
  | 'ok'
  | 'down'
  | 'html'
  | 'huge'
  | 'invalid-json'
  | 'keys-without-n'
  | 'error-500'
  | 'redirect-elsewhere'
  /** Discovery names a `jwks_uri` on another host (the other listener), which serves the right keys. */
  | 'jwks-elsewhere';

interface Key {
  readonly kid: string;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

function newKey(): Key {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { kid: randomUUID(), privateKey, publicKey };
}

export interface HostileProvider {
  /** `http://127.0.0.1:PORT`, the configured issuer. */
  readonly issuer: string;
  /** `localhost:PORT2`: another host, where `redirect-elsewhere` and `jwks-elsewhere` point. */
  readonly otherHost: string;
  fault: Fault;
  /** Milliseconds each answer waits before it is sent (discovery and JWKS alike). */
  delayMs: number;
  /**
   * A token signed by the current key, or by `kid`'s (a kid never made: the current key signs, the header names `kid`);
   * claims merged over valid ones; `now` in epoch seconds.
   */
  token(opts?: { claims?: Record<string, unknown>; now?: number; kid?: string }): string;
  /** The current signing key's kid. */
  currentKid(): string;
  /** Publishes a new key and signs with it from now on; `keepOld` keeps publishing the previous one. */
  rotate(keepOld: boolean): void;
  /** Discovery and JWKS requests so far (on both hosts). */
  requests(): number;
  close(): Promise<void>;
}

export async function startHostileProvider(): Promise<HostileProvider> {
  let published: Key[] = [newKey()];
  let current = published[0]!;
  /** Every key ever made, published or not (a removed key can still sign: the attacker who stole it). */
  const all: Key[] = [current];
  let count = 0;
  const state = { fault: 'ok' as Fault, delayMs: 0 };

  const jwks = (withN = true) => ({
    keys: published.map((k) => {
      const { n, ...rest } = k.publicKey.export({ format: 'jwk' });
      return { ...rest, ...(withN ? { n } : {}), kid: k.kid, alg: 'RS256', use: 'sig' };
    }),
  });

  const listen = async (server: Server, host: string) => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `${host}:${(server.address() as AddressInfo).port}`;
  };

  // The other host: 'localhost' resolves to this listener, a host name no issuer was configured with.
  const elsewhere = createServer((req, res) => {
    count += 1;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(jwks()));
    req.resume();
  });
  const otherHost = await listen(elsewhere, 'localhost');

  const server = createServer((req, res) => {
    count += 1;
    req.resume();
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const answer = () => {
      const json = (status: number, body: unknown) =>
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      switch (state.fault) {
        case 'down':
          return json(503, { error: 'temporarily_unavailable' });
        case 'html':
          return res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>Sign in</title><p>Maintenance');
        case 'huge': {
          // 2 MB, streamed without a Content-Length, so only counting the bytes read can stop it.
          res.writeHead(200, { 'content-type': 'application/json' });
          res.write('{"keys":[');
          for (let i = 0; i < 32; i++) res.write(`"${'k'.repeat(64 * 1024)}",`);
          return res.end('""]}');
        }
        case 'invalid-json':
          return res.writeHead(200, { 'content-type': 'application/json' }).end('{"keys": [ {"kty": "RSA", ');
        case 'error-500':
          return json(500, { error: 'server_error' });
        case 'redirect-elsewhere':
          return res.writeHead(302, { location: `http://${otherHost}${path}` }).end();
        default:
          break;
      }
      if (path === '/.well-known/openid-configuration') {
        const jwksUri = state.fault === 'jwks-elsewhere' ? `http://${otherHost}/jwks` : `${issuer}/jwks`;
        return json(200, { issuer, jwks_uri: jwksUri });
      }
      if (path === '/jwks') return json(200, jwks(state.fault !== 'keys-without-n'));
      return json(404, { error: 'not_found' });
    };
    if (state.delayMs > 0) setTimeout(answer, state.delayMs);
    else answer();
  });
  const issuer = `http://${await listen(server, '127.0.0.1')}`;

  return {
    issuer,
    otherHost,
    get fault() {
      return state.fault;
    },
    set fault(value: Fault) {
      state.fault = value;
    },
    get delayMs() {
      return state.delayMs;
    },
    set delayMs(value: number) {
      state.delayMs = value;
    },
    token({ claims = {}, now = Math.floor(Date.now() / 1000), kid } = {}) {
      const key = all.find((k) => k.kid === kid) ?? current;
      const payload = {
        iss: issuer,
        sub: 'svc-orders',
        aud: PROVIDER_AUDIENCE,
        iat: now,
        nbf: now,
        exp: now + 3600,
        roles: ['Orders.Read'],
        ...claims,
      };
      const input = `${b64({ alg: 'RS256', kid: kid ?? key.kid, typ: 'JWT' })}.${b64(payload)}`;
      return `${input}.${sign('sha256', Buffer.from(input), key.privateKey).toString('base64url')}`;
    },
    currentKid: () => current.kid,
    rotate(keepOld) {
      current = newKey();
      all.push(current);
      published = keepOld ? [...published, current] : [current];
    },
    requests: () => count,
    close: async () => {
      for (const s of [server, elsewhere]) {
        s.closeAllConnections();
        await new Promise<void>((resolve) => s.close(() => resolve()));
      }
    },
  };
}
