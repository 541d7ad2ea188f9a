/**
 * `make bench` (full: about 5.5 minutes here) and `make bench-quick` (`--quick`: about 50 s here): every scenario beside its
 * baseline in the same run, alternated A/B/A/B, on a load generator of worker threads; writes
 * bench/results/latest.json and latest.md (machine, Node, figures, ratios, targets, pass/miss; quick mode:
 * latest-quick.*, gitignored), and the folded results files authorize.json, protected-call.json and verify.json.
 * Exit 0 even on a missed target: the figures are the output (a shared machine's noise is not a failure).
 */
import { startBenchIssuer } from './lib/bench-issuer.js';
import { writeResults } from './lib/measure.js';
import { startGatehouseChild } from './load/gatehouse-child.js';
import { LoadPool } from './load/pool.js';
import { startBaselines } from './suite/baselines.js';
import { SIZES, type BenchContext } from './suite/context.js';
import { batchAuthorize, coldAuthorize, proxyDoors, warmAuthorize } from './suite/doors.js';
import { inProcessVerify } from './suite/in-process.js';
import { protectedCall } from './suite/interceptor.js';
import { distinctTokenMemory, unknownKidFlood } from './suite/memory.js';
import { Report } from './suite/report.js';

const quick = process.argv.includes('--quick');
const report = new Report(quick ? 'quick' : 'full');
const issuer = await startBenchIssuer();
const pool = new LoadPool();
const ctx: BenchContext = { pool, issuer, report, sizes: SIZES[quick ? 'quick' : 'full'], quick };
report.notes.push(
  `load generator: ${pool.size} worker threads, ${ctx.sizes.concurrency} calls in flight (closed loop), ${ctx.sizes.channels} connections per worker; segments of ${ctx.sizes.segmentMs} ms after ${ctx.sizes.warmupMs} ms warm-up, ${ctx.sizes.rounds} rounds A/B/A/B`,
  'the load generator shares the cores with the server: calls/s and latency are of the pair; server CPU per call (from /proc) is what transfers',
);

// First, in a process the load has not filled yet: its latency samples and token pools would make every allocation's
// garbage collection dearer for each contender but crypto.verify (which allocates nothing), measuring the harness.
await inProcessVerify(ctx);

const token = await issuer.mint('bench');
const [warm, cold] = await Promise.all([
  startGatehouseChild({ issuer: issuer.issuer }),
  startGatehouseChild({ issuer: issuer.issuer, decisions: { max_entries: 0 } }),
]);
const baselines = await startBaselines(warm, token);
const servers = { warm, cold, baselines, token };
try {
  await warmAuthorize(ctx, servers);
  await coldAuthorize(ctx, servers);
  await proxyDoors(ctx, servers);
  if (!quick) await batchAuthorize(ctx, servers);
  if (!quick) await protectedCall(ctx, warm, token);
  await baselines.stop();
  await cold.stop();
  await distinctTokenMemory(ctx);
  if (!quick) await unknownKidFlood(ctx);
} finally {
  await Promise.all([warm.stop(), cold.stop(), baselines.stop()]);
  await pool.close();
  issuer.close();
}

const dir = new URL('./results/', import.meta.url);
report.write(dir);
if (!quick) {
  const s = report.sections as Record<string, Record<string, unknown>>;
  writeResults('authorize', {
    warm_closed: s.authorize_warm_closed,
    warm_open: s.authorize_warm_open,
    cold_rs256: s.authorize_cold_rs256,
    batch_10: s.authorize_batch_10_warm,
  });
  writeResults('protected-call', s.protected_call);
}
const missed = report.targets.filter((t) => !t.pass);
console.log(
  `\n${report.targets.length - missed.length} of ${report.targets.length} targets met; wrote bench/results/${quick ? 'latest-quick' : 'latest'}.md and .json`,
);
for (const t of missed) console.log(`  missed: ${t.figure}: ${t.value} ${t.unit} (target ${t.op} ${t.bound})`);
