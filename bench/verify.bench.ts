/**
 * Token verification against its floor, in one run: raw crypto.verify with a prepared key (the baseline),
 * gatehouse's verifyToken with a warm key cache, and jose's jwtVerify for reference.
 * Run: make bench (or node --import tsx bench/verify.bench.ts). Writes bench/results/verify.json.
 */
import { createPublicKey, verify } from 'node:crypto';
import { createLocalJWKSet, exportJWK, generateKeyPair, jwtVerify, SignJWT } from 'jose';
import { validateConfig } from '../src/config/load.js';
import { createVerificationContext } from '../src/verification/verifier.js';
import { verifyToken } from '../src/verification/verify-token.js';
import { rate, writeResults } from './lib/measure.js';

const ISSUER = 'https://idp.bench.example';
const results: Record<string, unknown> = {};

for (const alg of ['RS256', 'ES256'] as const) {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', use: 'sig' };
  const jwks = { keys: [jwk] };
  const token = await new SignJWT({ roles: ['Orders.Read'], scope: 'orders.read' })
    .setProtectedHeader({ alg, kid: 'k1' })
    .setIssuer(ISSUER)
    .setAudience('api://orders')
    .setSubject('bench')
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(privateKey);

  // Baseline: the signature check alone, key prepared once.
  const keyObject = createPublicKey({ key: jwk, format: 'jwk' });
  const [h, p, s] = token.split('.') as [string, string, string];
  const data = Buffer.from(`${h}.${p}`);
  const signature = Buffer.from(s, 'base64url');
  const options = alg === 'ES256' ? { key: keyObject, dsaEncoding: 'ieee-p1363' as const } : keyObject;
  const raw = await rate(() => verify('sha256', data, options, signature));

  const config = validateConfig({
    issuers: [{ id: 'bench', type: 'oidc', issuer: ISSUER, audiences: ['api://orders'], algorithms: [alg] }],
  });
  const fakeFetch = (async (url: string | URL | Request) =>
    String(url).endsWith('/.well-known/openid-configuration')
      ? Response.json({ issuer: ISSUER, jwks_uri: `${ISSUER}/jwks` })
      : Response.json(jwks)) as typeof fetch;
  const ctx = createVerificationContext(config, { fetch: fakeFetch });
  await verifyToken(ctx, token); // warm the key cache
  const gatehouse = await rate(() => verifyToken(ctx, token));

  const localSet = createLocalJWKSet(jwks);
  const jose = await rate(() => jwtVerify(token, localSet, { issuer: ISSUER, audience: 'api://orders', algorithms: [alg] }));

  results[alg] = {
    baseline_crypto_verify: raw,
    gatehouse_verifyToken_warm: gatehouse,
    jose_jwtVerify: jose,
    overhead_over_baseline_us: Math.round((gatehouse.microsPerOp - raw.microsPerOp) * 100) / 100,
  };
  console.log(
    `${alg}: crypto.verify ${raw.microsPerOp} µs | verifyToken ${gatehouse.microsPerOp} µs | jose jwtVerify ${jose.microsPerOp} µs`,
  );
}

console.log(`wrote ${writeResults('verify', results)}`);
