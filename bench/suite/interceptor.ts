/**
 * What protection costs a service: orders.v1.Orders/GetOrder behind gatehouse's server interceptor (warm local
 * decision cache) against the same service unprotected, each its own child process, A/B/A/B, same metadata.
 */
import { REPO_ROOT, type GatehouseChild } from '../load/gatehouse-child.js';
import { alternate } from '../load/alternate.js';
import type { CallSpec } from '../load/job.js';
import { portLine, spawnServer } from '../load/server-process.js';
import { ratio } from '../load/stats.js';
import { metric } from '../load/scrape-metric.js';
import { closed, round1, type BenchContext } from './context.js';

export async function protectedCall(ctx: BenchContext, gatehouse: GatehouseChild, token: string): Promise<void> {
  const orders = (guard?: string) =>
    spawnServer(['--import', 'tsx', 'bench/load/servers/orders.ts', ...(guard ? [guard] : [])], portLine, { cwd: REPO_ROOT });
  const [bare, guarded] = await Promise.all([orders(), orders(gatehouse.grpcAddress)]);
  try {
    const call = (port: number): CallSpec => ({
      door: 'orders',
      address: `127.0.0.1:${port}`,
      tokens: { kind: 'same', token },
      expect: 'allow',
    });
    const asked = await metric(gatehouse.httpAddress, 'gatehouse_decisions_total');
    const figures = await alternate(
      ctx.pool,
      [
        { name: 'unprotected', job: closed(ctx, [call(bare.ready)]), server: bare },
        { name: 'protected', job: closed(ctx, [call(guarded.ready)]), server: guarded },
      ],
      ctx.sizes.rounds,
    );
    const extra = round1(figures.protected!.server_cpu_us_per_call! - figures.unprotected!.server_cpu_us_per_call!);
    // With the local cache warm the service asks gatehouse once per cache period, not once per call.
    const gatehouseDecisions = (await metric(gatehouse.httpAddress, 'gatehouse_decisions_total')) - asked;
    ctx.report.section('protected_call', { ...figures, extra_cpu_us_per_call: extra, gatehouse_decisions_during: gatehouseDecisions });
    ctx.report.target({
      id: 'interceptor_ratio',
      figure: 'a call behind the server interceptor (warm local cache), calls/s ÷ unprotected',
      value: ratio(figures.protected!.calls_per_second, figures.unprotected!.calls_per_second),
      unit: '×',
      op: '>=',
      bound: 0.9,
      detail: `${figures.protected!.calls_per_second} ÷ ${figures.unprotected!.calls_per_second} calls/s, closed loop`,
    });
    ctx.report.target({
      id: 'interceptor_cpu',
      figure: 'extra service CPU per call behind the server interceptor',
      value: extra,
      unit: 'µs',
      op: '<=',
      bound: 8,
      detail: `${figures.protected!.server_cpu_us_per_call} vs ${figures.unprotected!.server_cpu_us_per_call} µs/call`,
    });
  } finally {
    await Promise.all([bare.stop(), guarded.stop()]);
  }
}
