/** A loopback OIDC issuer for the benchmarks (discovery + JWKS, an RS256 key `k1` and an ES256 key `e1`) and a minter of its tokens. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, exportPKCS8, generateKeyPair, SignJWT } from 'jose';

export const BENCH_AUDIENCE = 'api://orders';

export interface BenchIssuer {
  /** `http://127.0.0.1:PORT`: the issuer URL and every token's `iss`. */
  readonly issuer: string;
  /** A token for `aud` `api://orders`, valid an hour, with `sub` and `claims`, signed RS256 (or ES256). */
  mint(sub: string, claims?: Record<string, unknown>, alg?: 'RS256' | 'ES256'): Promise<string>;
  /** The private key of `alg` as PKCS#8 PEM, with its kid (for load workers that sign their own tokens). */
  privateKey(alg: 'RS256' | 'ES256'): Promise<{ pem: string; kid: string }>;
  /** How many times the JWKS was served. */
  readonly jwksFetches: number;
  close(): void;
}

export async function startBenchIssuer(): Promise<BenchIssuer> {
  const rsa = await generateKeyPair('RS256', { extractable: true });
  const ec = await generateKeyPair('ES256', { extractable: true });
  const jwks = {
    keys: [
      { ...(await exportJWK(rsa.publicKey)), kid: 'k1', use: 'sig', alg: 'RS256' },
      { ...(await exportJWK(ec.publicKey)), kid: 'e1', use: 'sig', alg: 'ES256' },
    ],
  };
  let jwksFetches = 0;
  const server = createServer((req, res) => {
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const discovery = req.url === '/.well-known/openid-configuration';
    if (!discovery) jwksFetches++;
    const body = discovery ? { issuer: base, jwks_uri: `${base}/jwks` } : jwks;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const keys = { RS256: { key: rsa.privateKey, kid: 'k1' }, ES256: { key: ec.privateKey, kid: 'e1' } };
  return {
    issuer,
    mint: (sub, claims = { roles: ['Orders.Read'] }, alg = 'RS256') =>
      new SignJWT(claims)
        .setProtectedHeader({ alg, kid: keys[alg].kid })
        .setIssuer(issuer)
        .setAudience(BENCH_AUDIENCE)
        .setSubject(sub)
        .setIssuedAt()
        .setExpirationTime('1h')
        .sign(keys[alg].key),
    privateKey: async (alg) => ({ pem: await exportPKCS8(keys[alg].key), kid: keys[alg].kid }),
    get jwksFetches() {
      return jwksFetches;
    },
    close: () => server.close(),
  };
}
