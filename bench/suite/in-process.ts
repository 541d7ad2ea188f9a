/**
 * Token verification in-process against its floor and the usual Node stacks, interleaved (each measured twice,
 * the better kept: noise only slows): raw crypto.verify with a prepared KeyObject, gatehouse's verifyToken with a
 * warm key cache, jose jwtVerify over createRemoteJWKSet (warm), jsonwebtoken + jwks-rsa (warm cache).
 * Replaces bench/verify.bench.ts; a full run also writes bench/results/verify.json.
 */
import { createPublicKey, verify } from 'node:crypto';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import jwt, { type JwtHeader, type SigningKeyCallback } from 'jsonwebtoken';
import jwksClient from 'jwks-rsa';
import type * as LoadModule from '../../src/config/load.js';
import type * as VerifierModule from '../../src/verification/verifier.js';
import type * as VerifyTokenModule from '../../src/verification/verify-token.js';
import { gatehouseModule } from '../load/runtime.js';
import { BENCH_AUDIENCE } from '../lib/bench-issuer.js';
import { rate, writeResults } from '../lib/measure.js';
import { ratio } from '../load/stats.js';
import type { BenchContext } from './context.js';

// The verification core as it ships (runtime.ts): the built modules by default.
const { validateConfig } = (await import(gatehouseModule('config/load'))) as typeof LoadModule;
const { createVerificationContext } = (await import(gatehouseModule('verification/verifier'))) as typeof VerifierModule;
const { verifyTokenNow } = (await import(gatehouseModule('verification/verify-token'))) as typeof VerifyTokenModule;

export async function inProcessVerify(ctx: BenchContext): Promise<void> {
  const { issuer } = ctx.issuer;
  const jwks = (await (await fetch(`${issuer}/jwks`)).json()) as { keys: ({ kid: string } & Record<string, unknown>)[] };
  const results: Record<string, Record<string, number>> = {};
  const ms = ctx.quick ? 400 : 700;
  for (const alg of ctx.quick ? (['RS256'] as const) : (['RS256', 'ES256'] as const)) {
    const token = await ctx.issuer.mint('bench', { roles: ['Orders.Read'], scope: 'orders.read' }, alg);
    const [h, p, s] = token.split('.') as [string, string, string];
    const data = Buffer.from(`${h}.${p}`);
    const signature = Buffer.from(s, 'base64url');
    const keyObject = createPublicKey({ key: jwks.keys.find((k) => k.kid === (alg === 'RS256' ? 'k1' : 'e1'))!, format: 'jwk' });
    const keyOptions = alg === 'ES256' ? { key: keyObject, dsaEncoding: 'ieee-p1363' as const } : keyObject;

    const config = validateConfig({ issuers: [{ id: 'bench', type: 'oidc', issuer, audiences: [BENCH_AUDIENCE], algorithms: [alg] }] });
    const verification = createVerificationContext(config, {});
    await verification.keyCache.start();
    const remote = createRemoteJWKSet(new URL(`${issuer}/jwks`));
    const client = jwksClient({ jwksUri: `${issuer}/jwks`, cache: true, rateLimit: false });
    const getKey = (header: JwtHeader, callback: SigningKeyCallback) =>
      void client.getSigningKey(header.kid).then(
        (key) => callback(null, key.getPublicKey()),
        (err: Error) => callback(err),
      );
    const contenders: Record<string, () => unknown> = {
      crypto_verify: () => {
        if (!verify('sha256', data, keyOptions, signature)) throw new Error('bad signature');
      },
      // The engine's call (authorizer.ts): synchronous with the key held, as verifyToken's promise is not.
      gatehouse_verifyToken: () => verifyTokenNow(verification, token),
      jose_jwtVerify: () => jwtVerify(token, remote, { issuer, audience: BENCH_AUDIENCE, algorithms: [alg] }),
      jsonwebtoken_jwks_rsa: () =>
        new Promise<void>((resolve, reject) =>
          jwt.verify(token, getKey, { issuer, audience: BENCH_AUDIENCE, algorithms: [alg] }, (err) => (err ? reject(err) : resolve())),
        ),
    };
    for (const fn of Object.values(contenders)) for (let i = 0; i < 200; i++) await fn(); // warm every cache and the JIT
    const best: Record<string, number> = {};
    for (let round = 0; round < 2; round++) {
      const names = Object.keys(contenders);
      for (const name of round % 2 ? names.reverse() : names) {
        const r = await rate(contenders[name]!, ms);
        best[name] = Math.max(best[name] ?? 0, r.opsPerSecond);
      }
    }
    verification.keyCache.stop();
    results[alg] = {
      ...Object.fromEntries(Object.entries(best).map(([k, v]) => [`${k}_per_s`, v])),
      ...Object.fromEntries(Object.entries(best).map(([k, v]) => [`${k}_us`, Math.round((1e6 / v) * 100) / 100])),
    };
    if (alg !== 'RS256') continue;
    const g = best.gatehouse_verifyToken!;
    const detail = (other: string) =>
      `${Math.round((1e6 / g) * 10) / 10} µs vs ${Math.round((1e6 / best[other]!) * 10) / 10} µs per token, warm key caches`;
    ctx.report.target({
      id: 'verify_vs_crypto',
      figure: 'in-process verification RS256, ops/s ÷ raw `crypto.verify`',
      value: ratio(g, best.crypto_verify!),
      unit: '×',
      op: '>=',
      bound: 0.8,
      detail: detail('crypto_verify'),
    });
    ctx.report.target({
      id: 'verify_vs_jsonwebtoken',
      figure: 'in-process verification RS256 ÷ `jsonwebtoken` + `jwks-rsa`',
      value: ratio(g, best.jsonwebtoken_jwks_rsa!),
      unit: '×',
      op: '>=',
      bound: 3,
      detail: detail('jsonwebtoken_jwks_rsa'),
    });
    ctx.report.target({
      id: 'verify_vs_jose',
      figure: 'in-process verification RS256 ÷ `jose` `jwtVerify`',
      value: ratio(g, best.jose_jwtVerify!),
      unit: '×',
      op: '>=',
      bound: 3,
      detail: detail('jose_jwtVerify'),
    });
  }
  ctx.report.section('verify_in_process', results);
  if (!ctx.quick) writeResults('verify', results);
}
