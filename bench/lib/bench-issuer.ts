/** A loopback OIDC issuer for the benchmarks (discovery + JWKS) and a minter of its RS256 tokens. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';

export interface BenchIssuer {
  /** `http://127.0.0.1:PORT`: the issuer URL and every token's `iss`. */
  readonly issuer: string;
  /** A token for `aud` `api://orders`, valid an hour, with `sub` and `claims`. */
  mint(sub: string, claims?: Record<string, unknown>): Promise<string>;
  close(): void;
}

export async function startBenchIssuer(): Promise<BenchIssuer> {
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  const jwks = { keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', use: 'sig' }] };
  const server = createServer((req, res) => {
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const body = req.url === '/.well-known/openid-configuration' ? { issuer: base, jwks_uri: `${base}/jwks` } : jwks;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    issuer,
    mint: (sub, claims = { roles: ['Orders.Read'] }) =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
        .setIssuer(issuer)
        .setAudience('api://orders')
        .setSubject(sub)
        .setIssuedAt()
        .setExpirationTime('1h')
        .sign(privateKey),
    close: () => server.close(),
  };
}
