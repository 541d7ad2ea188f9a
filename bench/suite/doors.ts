/**
 * The doors under load against their transport baselines, A/B/A/B in one run: Authorize warm (throughput closed
 * loop, latency open loop) and cold RS256, ES256 beside RS256, Verify cold, AuthorizeBatch of 10, Envoy Check warm,
 * HTTP /v1/authz warm. Cold: distinct prepared tokens against a gatehouse whose decision cache is off, so the
 * signature is verified on every call.
 */
import type { CallSpec, TokenSpec } from '../load/job.js';
import { BATCH_ACTIONS, GRPC_ACTION, HTTP_PATH, type GatehouseChild } from '../load/gatehouse-child.js';
import { alternate } from '../load/alternate.js';
import type { LoadFigures } from '../load/pool.js';
import { ratio } from '../load/stats.js';
import type { Baselines } from './baselines.js';
import { closed, distinctTokens, open, type BenchContext } from './context.js';

export interface DoorServers {
  readonly warm: GatehouseChild;
  /** decisions.max_entries 0: every call verifies its token. */
  readonly cold: GatehouseChild;
  readonly baselines: Baselines;
  readonly token: string;
}

const authorize = (address: string, tokens: TokenSpec): CallSpec => ({
  door: 'authorize',
  address,
  action: GRPC_ACTION,
  tokens,
  expect: 'allow',
});

function throughputTarget(ctx: BenchContext, id: string, figure: string, a: LoadFigures, b: LoadFigures, bound: number, baseline: string) {
  ctx.report.target({
    id,
    figure,
    value: ratio(a.calls_per_second, b.calls_per_second),
    unit: '×',
    op: '>=',
    bound,
    detail: `${a.calls_per_second} ÷ ${b.calls_per_second} calls/s (${baseline}); server CPU ${a.server_cpu_us_per_call} vs ${b.server_cpu_us_per_call} µs/call`,
  });
}

export async function warmAuthorize(ctx: BenchContext, s: DoorServers): Promise<void> {
  const same: TokenSpec = { kind: 'same', token: s.token };
  const figures = await alternate(
    ctx.pool,
    [
      { name: 'canned', job: closed(ctx, [authorize(s.baselines.canned.address, same)]), server: s.baselines.canned },
      { name: 'gatehouse', job: closed(ctx, [authorize(s.warm.grpcAddress, same)]), server: s.warm },
    ],
    ctx.sizes.rounds,
  );
  ctx.report.section('authorize_warm_closed', figures);
  throughputTarget(
    ctx,
    'authorize_warm',
    '`Authorize` warm, calls/s ÷ canned-response server',
    figures.gatehouse!,
    figures.canned!,
    0.9,
    'closed loop, 64 in flight',
  );
  // Latency at a rate both can carry: half the canned server's closed-loop throughput, open loop.
  const rate = Math.max(200, Math.round(Math.min(figures.canned!.calls_per_second, figures.gatehouse!.calls_per_second) * 0.5));
  const latency = await alternate(
    ctx.pool,
    [
      { name: 'canned', job: open(ctx, [authorize(s.baselines.canned.address, same)], rate), server: s.baselines.canned },
      { name: 'gatehouse', job: open(ctx, [authorize(s.warm.grpcAddress, same)], rate), server: s.warm },
    ],
    ctx.sizes.rounds,
  );
  ctx.report.section('authorize_warm_open', { rate_per_second: rate, ...latency });
  ctx.report.target({
    id: 'authorize_warm_p99',
    figure: '`Authorize` warm, p99 ÷ canned-response server p99',
    value: ratio(latency.gatehouse!.p99_ms, latency.canned!.p99_ms),
    unit: '×',
    op: '<=',
    bound: 1.2,
    detail: `open loop at ${rate} calls/s, from the intended send time: ${latency.gatehouse!.p99_ms} vs ${latency.canned!.p99_ms} ms`,
  });
}

export async function coldAuthorize(ctx: BenchContext, s: DoorServers): Promise<void> {
  const [rs, es] = await Promise.all([
    distinctTokens(ctx.issuer, 'RS256', ctx.sizes.coldPool),
    distinctTokens(ctx.issuer, 'ES256', ctx.sizes.coldPool),
  ]);
  const rsPool: TokenSpec = { kind: 'pool', tokens: rs };
  const figures = await alternate(
    ctx.pool,
    [
      { name: 'canned', job: closed(ctx, [authorize(s.baselines.canned.address, rsPool)]), server: s.baselines.canned },
      { name: 'gatehouse', job: closed(ctx, [authorize(s.cold.grpcAddress, rsPool)]), server: s.cold },
    ],
    ctx.sizes.rounds,
  );
  ctx.report.section('authorize_cold_rs256', figures);
  throughputTarget(
    ctx,
    'authorize_cold',
    '`Authorize` cold RS256 (distinct tokens), calls/s ÷ canned-response server',
    figures.gatehouse!,
    figures.canned!,
    0.7,
    'closed loop, signature verified every call',
  );
  if (ctx.quick) return;
  const algs = await alternate(
    ctx.pool,
    [
      { name: 'RS256', job: closed(ctx, [authorize(s.cold.grpcAddress, rsPool)]), server: s.cold },
      { name: 'ES256', job: closed(ctx, [authorize(s.cold.grpcAddress, { kind: 'pool', tokens: es })]), server: s.cold },
    ],
    ctx.sizes.rounds,
  );
  ctx.report.section('authorize_cold_es256_vs_rs256', {
    ...algs,
    es256_over_rs256_calls: ratio(algs.ES256!.calls_per_second, algs.RS256!.calls_per_second),
  });
  const verify = await alternate(
    ctx.pool,
    [
      {
        name: 'canned',
        job: closed(ctx, [{ door: 'verify', address: s.baselines.canned.address, tokens: rsPool, expect: 'allow' }]),
        server: s.baselines.canned,
      },
      {
        name: 'gatehouse',
        job: closed(ctx, [{ door: 'verify', address: s.cold.grpcAddress, tokens: rsPool, expect: 'allow' }]),
        server: s.cold,
      },
    ],
    ctx.sizes.rounds,
  );
  ctx.report.section('verify_cold_rs256', { ...verify, ratio: ratio(verify.gatehouse!.calls_per_second, verify.canned!.calls_per_second) });
}

export async function batchAuthorize(ctx: BenchContext, s: DoorServers): Promise<void> {
  const same: TokenSpec = { kind: 'same', token: s.token };
  const batch = (address: string): CallSpec => ({
    door: 'authorize-batch',
    address,
    actions: BATCH_ACTIONS,
    tokens: same,
    expect: 'allow',
  });
  const figures = await alternate(
    ctx.pool,
    [
      { name: 'canned', job: closed(ctx, [batch(s.baselines.canned.address)]), server: s.baselines.canned },
      { name: 'gatehouse', job: closed(ctx, [batch(s.warm.grpcAddress)]), server: s.warm },
    ],
    ctx.sizes.rounds,
  );
  ctx.report.section('authorize_batch_10_warm', {
    ...figures,
    ratio: ratio(figures.gatehouse!.calls_per_second, figures.canned!.calls_per_second),
  });
}

export async function proxyDoors(ctx: BenchContext, s: DoorServers): Promise<void> {
  const same: TokenSpec = { kind: 'same', token: s.token };
  const envoy = (address: string): CallSpec => ({ door: 'envoy', address, path: HTTP_PATH, tokens: same, expect: 'allow' });
  const check = await alternate(
    ctx.pool,
    [
      { name: 'canned', job: closed(ctx, [envoy(s.baselines.canned.address)]), server: s.baselines.canned },
      { name: 'gatehouse', job: closed(ctx, [envoy(s.warm.grpcAddress)]), server: s.warm },
    ],
    ctx.sizes.rounds,
  );
  ctx.report.section('envoy_check_warm', check);
  throughputTarget(
    ctx,
    'envoy_warm',
    'Envoy `Check` warm ÷ canned `CheckResponse` server',
    check.gatehouse!,
    check.canned!,
    0.85,
    'closed loop, 64 in flight',
  );
  const http = (address: string): CallSpec => ({ door: 'http', address, uri: HTTP_PATH, tokens: same, expect: 'allow' });
  const authz = await alternate(
    ctx.pool,
    [
      { name: 'bare_http', job: closed(ctx, [http(s.baselines.bareHttp.address)]), server: s.baselines.bareHttp },
      { name: 'gatehouse', job: closed(ctx, [http(s.warm.httpAddress)]), server: s.warm },
    ],
    ctx.sizes.rounds,
  );
  ctx.report.section('http_authz_warm', authz);
  throughputTarget(
    ctx,
    'http_warm',
    'HTTP `/v1/authz` warm ÷ bare `node:http` with the same headers',
    authz.gatehouse!,
    authz.bare_http!,
    0.85,
    'closed loop, 64 in flight, keep-alive',
  );
}
