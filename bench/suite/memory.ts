/**
 * Memory under distinct tokens: RSS of a fresh `gatehouse serve` while distinct valid tokens (ES256, signed by the
 * workers) stream through Authorize, until the count or the time budget is reached, sampled as it goes; and RSS
 * while a flood of tokens naming unknown kids arrives, with the JWKS fetches the issuer saw (one per cooldown).
 */
import { BENCH_AUDIENCE } from '../lib/bench-issuer.js';
import { GRPC_ACTION, startGatehouseChild } from '../load/gatehouse-child.js';
import type { CallSpec } from '../load/job.js';
import { metric } from '../load/scrape-metric.js';
import type { BenchContext } from './context.js';

const MB = 1024 * 1024;
const mb = (bytes: number) => Math.round((bytes / MB) * 10) / 10;

export async function distinctTokenMemory(ctx: BenchContext): Promise<void> {
  const maxEntries = ctx.quick ? 1000 : 100_000;
  const server = await startGatehouseChild({ issuer: ctx.issuer.issuer, decisions: { max_entries: maxEntries } });
  try {
    const { pem, kid } = await ctx.issuer.privateKey('ES256');
    const call: CallSpec = {
      door: 'authorize',
      address: server.grpcAddress,
      action: GRPC_ACTION,
      tokens: {
        kind: 'mint',
        alg: 'ES256',
        kid,
        privateKeyPem: pem,
        issuer: ctx.issuer.issuer,
        audience: BENCH_AUDIENCE,
        claims: { roles: ['Orders.Read'] },
      },
      expect: 'allow',
    };
    const samples: { tokens: number; rss_mb: number; cached: number; seconds: number }[] = [];
    const started = Date.now();
    let tokens = 0;
    let errors = 0;
    samples.push({ tokens: 0, rss_mb: mb(server.rssBytes()), cached: 0, seconds: 0 });
    while (tokens < ctx.sizes.memoryTokens && Date.now() - started < ctx.sizes.memoryBudgetMs) {
      const run = await ctx.pool.run({
        calls: [call],
        mode: 'closed',
        concurrency: ctx.sizes.concurrency,
        channels: ctx.sizes.channels,
        warmupMs: 0,
        durationMs: 2000,
      });
      errors += run.figures.errors;
      // Every call counts, warm-up and tail included: the server's own count of decisions.
      tokens = await metric(server.httpAddress, 'gatehouse_decisions_total');
      const cached = await metric(server.httpAddress, 'gatehouse_cache_entries', 'cache="decision"');
      samples.push({ tokens, rss_mb: mb(server.rssBytes()), cached, seconds: Math.round((Date.now() - started) / 1000) });
    }
    const last = samples[samples.length - 1]!;
    // "Flat once the caches are full": from the first sample at or beyond half the tokens whose cache was already full.
    const full = samples.find((s) => s.tokens >= last.tokens / 2 && s.cached >= last.cached * 0.95 && s.tokens > 0);
    const growth = full && full !== last ? Math.round(((last.rss_mb - full.rss_mb) / full.rss_mb) * 1000) / 10 : undefined;
    ctx.report.section('memory_distinct_tokens', {
      max_entries: maxEntries,
      tokens,
      errors,
      peak_rss_mb: Math.max(...samples.map((s) => s.rss_mb)),
      growth_after_full_pct: growth ?? null,
      samples,
    });
    ctx.report.target({
      id: 'memory_rss',
      figure: `RSS after ${tokens.toLocaleString('en')} distinct tokens through \`Authorize\` (target: one million)`,
      value: last.rss_mb,
      unit: 'MB',
      op: '<=',
      bound: 300,
      detail: `decision cache ${maxEntries.toLocaleString('en')} entries, held ${last.cached.toLocaleString('en')}; ES256 signed by the load workers; ${errors} errors`,
    });
    if (growth !== undefined) {
      ctx.report.target({
        id: 'memory_flat',
        figure: 'RSS growth once the caches are full',
        value: growth,
        unit: '%',
        op: '<=',
        bound: 10,
        detail: `${full!.rss_mb} MB at ${full!.tokens.toLocaleString('en')} tokens → ${last.rss_mb} MB at ${last.tokens.toLocaleString('en')}`,
      });
    } else ctx.report.notes.push('memory: the decision cache never filled within the budget, so flatness was not judged');
    if (tokens < ctx.sizes.memoryTokens) {
      ctx.report.notes.push(
        `memory: ${tokens.toLocaleString('en')} of ${ctx.sizes.memoryTokens.toLocaleString('en')} distinct tokens in the ${ctx.sizes.memoryBudgetMs / 1000} s budget (BENCH_MEMORY_SECONDS=300 make bench for the full million)`,
      );
    }
  } finally {
    await server.stop();
  }
}

export async function unknownKidFlood(ctx: BenchContext): Promise<void> {
  const cooldownSeconds = 2;
  const server = await startGatehouseChild({ issuer: ctx.issuer.issuer, keys: { unknown_kid_cooldown: `${cooldownSeconds}s` } });
  try {
    const call: CallSpec = {
      door: 'authorize',
      address: server.grpcAddress,
      action: GRPC_ACTION,
      tokens: { kind: 'unknown-kid', issuer: ctx.issuer.issuer, audience: BENCH_AUDIENCE },
      expect: 'deny',
    };
    const job = {
      calls: [call],
      mode: 'closed' as const,
      concurrency: ctx.sizes.concurrency,
      channels: ctx.sizes.channels,
      warmupMs: 0,
      durationMs: 1000,
    };
    await ctx.pool.run({ ...job, durationMs: 2000 }); // warm: JIT, first refusals, the heap's first growth
    const fetchesBefore = ctx.issuer.jwksFetches;
    const started = Date.now();
    let calls = 0;
    let errors = 0;
    const rss: number[] = [];
    while (calls < ctx.sizes.unknownKids && Date.now() - started < ctx.sizes.floodBudgetMs) {
      const run = await ctx.pool.run({ ...job, durationMs: 2000 });
      calls += run.figures.calls;
      errors += run.figures.errors;
      rss.push(mb(server.rssBytes()));
    }
    // Flat: the last sample against the first one of the flood proper.
    const rssStart = rss[0]! * MB;
    const seconds = (Date.now() - started) / 1000;
    const fetches = ctx.issuer.jwksFetches - fetchesBefore;
    const allowed = Math.ceil(seconds / cooldownSeconds) + 1;
    const growth = Math.round(((rss[rss.length - 1]! * MB - rssStart) / rssStart) * 1000) / 10;
    ctx.report.section('unknown_kid_flood', {
      calls,
      errors,
      seconds: Math.round(seconds),
      cooldown_s: cooldownSeconds,
      jwks_fetches: fetches,
      rss_start_mb: mb(rssStart),
      rss_mb: rss,
    });
    ctx.report.target({
      id: 'kid_flood_fetches',
      figure: `JWKS fetches during a flood of ${calls.toLocaleString('en')} unknown \`kid\`s`,
      value: fetches,
      unit: 'fetches',
      op: '<=',
      bound: allowed,
      detail: `${Math.round(seconds)} s at a ${cooldownSeconds} s cooldown: at most one per cooldown (+1); ${errors} wrong answers`,
    });
    ctx.report.target({
      id: 'kid_flood_rss',
      figure: 'RSS growth during the unknown-`kid` flood',
      value: growth,
      unit: '%',
      op: '<=',
      bound: 10,
      detail: `${mb(rssStart)} MB → ${rss[rss.length - 1]} MB`,
    });
  } finally {
    await server.stop();
  }
}
