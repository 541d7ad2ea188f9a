/** What every part of the bench shares: the load pool, the issuer, the report, and the sizes of this mode. */
import { createPrivateKey, sign } from 'node:crypto';
import type { BenchIssuer } from '../lib/bench-issuer.js';
import { BENCH_AUDIENCE } from '../lib/bench-issuer.js';
import type { LoadPool, PoolJob } from '../load/pool.js';
import type { CallSpec } from '../load/job.js';
import type { Report } from './report.js';

export interface Sizes {
  /** One measured segment of an A/B/A/B pair, and its warm-up. */
  readonly segmentMs: number;
  readonly warmupMs: number;
  readonly rounds: number;
  /** Calls in flight (closed loop), over all workers. */
  readonly concurrency: number;
  readonly channels: number;
  /** Distinct tokens through Authorize for the memory figure, and the time allowed for them. */
  readonly memoryTokens: number;
  readonly memoryBudgetMs: number;
  readonly unknownKids: number;
  readonly floodBudgetMs: number;
  /** Prepared distinct tokens per algorithm (cycled against a server whose decision cache is off). */
  readonly coldPool: number;
}

export const SIZES: Record<'full' | 'quick', Sizes> = {
  full: {
    segmentMs: 2000,
    warmupMs: 400,
    rounds: 4,
    concurrency: 64,
    channels: 4,
    memoryTokens: Number(process.env.BENCH_MEMORY_TOKENS ?? 1_000_000),
    // 22 s keeps all of `make bench` under 5 minutes here: some 50,000 tokens, the caches full after the first ~20,000.
    memoryBudgetMs: Number(process.env.BENCH_MEMORY_SECONDS ?? 22) * 1000,
    unknownKids: 100_000,
    floodBudgetMs: 16_000,
    coldPool: 4000,
  },
  quick: {
    segmentMs: 600,
    warmupMs: 200,
    rounds: 2,
    concurrency: 64,
    channels: 4,
    memoryTokens: Number(process.env.BENCH_MEMORY_TOKENS ?? 1_000_000),
    memoryBudgetMs: Number(process.env.BENCH_MEMORY_SECONDS ?? 3) * 1000,
    unknownKids: 10_000,
    floodBudgetMs: 5000,
    coldPool: 1000,
  },
};

export interface BenchContext {
  readonly pool: LoadPool;
  readonly issuer: BenchIssuer;
  readonly report: Report;
  readonly sizes: Sizes;
  readonly quick: boolean;
}

/** A closed-loop job at the mode's concurrency. */
export function closed(ctx: BenchContext, calls: CallSpec[], durationMs = ctx.sizes.segmentMs): PoolJob {
  return {
    calls,
    mode: 'closed',
    concurrency: ctx.sizes.concurrency,
    channels: ctx.sizes.channels,
    warmupMs: ctx.sizes.warmupMs,
    durationMs,
  };
}

/** An open-loop job at `ratePerSecond` arrivals. */
export function open(ctx: BenchContext, calls: CallSpec[], ratePerSecond: number, durationMs = ctx.sizes.segmentMs): PoolJob {
  return { calls, mode: 'open', ratePerSecond, channels: ctx.sizes.channels, warmupMs: ctx.sizes.warmupMs, durationMs };
}

/** `count` distinct valid tokens of `alg`, signed here with node:crypto (faster than jose for thousands). */
export async function distinctTokens(
  issuer: BenchIssuer,
  alg: 'RS256' | 'ES256',
  count: number,
  claims: Record<string, unknown> = { roles: ['Orders.Read'] },
) {
  const { pem, kid } = await issuer.privateKey(alg);
  const key = createPrivateKey(pem);
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const header = b64({ alg, kid, typ: 'JWT' });
  const iat = Math.floor(Date.now() / 1000);
  return Array.from({ length: count }, (_, i) => {
    const input = `${header}.${b64({ ...claims, iss: issuer.issuer, aud: BENCH_AUDIENCE, sub: `cold-${alg}-${i}`, iat, exp: iat + 3600 })}`;
    const signature = sign('sha256', Buffer.from(input), alg === 'ES256' ? { key, dsaEncoding: 'ieee-p1363' } : key);
    return `${input}.${signature.toString('base64url')}`;
  });
}

export const round1 = (x: number) => Math.round(x * 10) / 10;
