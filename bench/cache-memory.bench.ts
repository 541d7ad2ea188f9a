/**
 * What one cached token really costs in memory: N distinct tokens through the engine (verification, decision,
 * the principal's wire form as the gRPC door builds it), heap measured after a full GC before and after, for
 * small and large tokens. The cache's byte estimate (contract/cache-bytes.ts) must stay at or above these figures:
 * the run fails if it does not.
 * Run: node --expose-gc --import tsx bench/cache-memory.bench.ts (make bench-parts). Writes bench/results/cache-memory.json.
 */
import { validateConfig } from '../src/config/load.js';
import { createAuthorizer } from '../src/decisions/create-authorizer.js';
import { measuredByteEstimate } from '../src/contract/cache-bytes.js';
import { preparePrincipal } from '../src/server/prepared-responses.js';
import { LOOPBACK_AUDIENCE, startLoopbackIssuer } from '../test/verification/loopback-issuer.js';
import { writeResults } from './lib/measure.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');
const N = Number(process.env.CACHE_MEMORY_TOKENS ?? 4000);
const ACTION = '/orders.v1.Orders/GetOrder';

const issuer = await startLoopbackIssuer();
const config = validateConfig(
  {
    issuers: [{ id: 'idp', type: 'oidc', issuer: issuer.issuer, audiences: [LOOPBACK_AUDIENCE] }],
    rules: [{ id: 'read', actions: ['/orders.v1.Orders/*'], any_roles: ['Orders.Read'] }],
    decisions: { max_entries: 10 * N, max_bytes: 1024 * 1024 * 1024 },
  },
  'bench',
);

const guid = (i: number, j: number) => `${(i * 131 + j).toString(16).padStart(8, '0')}-0000-4000-8000-${j.toString(16).padStart(12, '0')}`;
const shapes: Record<string, (i: number) => Record<string, unknown>> = {
  'small (roles only)': (i) => ({ sub: `user-${i}`, roles: ['Orders.Read'] }),
  'Entra-like, 20 groups': (i) => ({
    sub: `user-${i}`,
    oid: guid(i, 0),
    tid: guid(7, 7),
    roles: ['Orders.Read'],
    scp: 'orders.read profile',
    groups: Array.from({ length: 20 }, (_, j) => guid(i, j + 1)),
    name: `User Number ${i}`,
    preferred_username: `user${i}@contoso.example`,
  }),
  '150 groups': (i) => ({ sub: `user-${i}`, roles: ['Orders.Read'], groups: Array.from({ length: 150 }, (_, j) => guid(i, j + 1)) }),
};

const heap = () => {
  gc!();
  gc!();
  return process.memoryUsage().heapUsed;
};

const results: Record<string, unknown>[] = [];
for (const [name, claims] of Object.entries(shapes)) {
  for (const key of ['rsa', 'ec'] as const) {
    const tokens = Array.from({ length: N }, (_, i) => issuer.token({ key, claims: claims(i) }));
    const authorizer = createAuthorizer(config);
    await authorizer.verification.keyCache.start();
    await authorizer.authorize(issuer.token({ key, claims: claims(N + 1) }), ACTION); // warm: compiled paths, keys
    const before = heap();
    for (const token of tokens) {
      const outcome = await authorizer.authorize(token, ACTION);
      if (!outcome.allowed || !outcome.principal)
        throw new Error(`not allowed: ${outcome.allowed ? '' : `${outcome.reason} ${outcome.message}`}`);
      preparePrincipal(outcome.principal, true); // its bytes, as held for a principal answered about again
    }
    const after = heap();
    const perToken = Math.round((after - before) / N);
    const tokenLength = Math.round(tokens.reduce((sum, t) => sum + t.length, 0) / N);
    const held = authorizer.cachedDecisions;
    authorizer.verification.keyCache.stop();
    const estimated = measuredByteEstimate.record(tokenLength) + measuredByteEstimate.answer(ACTION, { rule: 'read' });
    if (estimated < perToken) throw new Error(`the estimate (${estimated} bytes) is below the measured cost (${perToken})`);
    results.push({ shape: name, alg: key === 'rsa' ? 'RS256' : 'ES256', tokens: N, held, tokenLength, bytesPerToken: perToken, estimated });
    console.log(
      `${name.padEnd(24)} ${key === 'rsa' ? 'RS256' : 'ES256'}  token ${tokenLength} chars  ${perToken} bytes per cached token (estimated ${estimated})`,
    );
  }
}
await issuer.close();
console.log(`wrote ${writeResults('cache-memory', { node: process.version, results })}`);
