/**
 * server.workers: 1 against 2, in one run, alternated (1, 2, 1, 2): a real `gatehouse serve` child answering
 * Authorize over gRPC at 64 in flight on 4 connections (the primary deals connections to workers, not calls), warm
 * (one token, decision cache hits) and cold (distinct tokens, decision cache off: a signature verified per call).
 * Figures: calls/s, p50/p99, and server CPU per call summed over the process group (primary + workers, from /proc).
 * The load generator is this one Node thread on the same 2 cores, so it competes with the workers for CPU.
 * The built gatehouse, with the image's node flags (load/runtime.ts). Run: make bench. Writes bench/results/workers.json.
 */
import { credentials, loadPackageDefinition, type Client } from '@grpc/grpc-js';
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadGatehouseProto } from '../src/contract/proto.js';
import { startBenchIssuer } from './lib/bench-issuer.js';
import { writeResults } from './lib/measure.js';
import { gatehouseEntry } from './load/runtime.js';
import { treeCpuMicros } from './load/server-process.js';
import { percentile } from './load/stats.js';

const IN_FLIGHT = 64;
const CONNECTIONS = 4;
const DURATION_MS = Number(process.env.BENCH_WORKERS_MS ?? 2000);
const ROUNDS = 2;
const ACTION = '/orders.v1.Orders/GetOrder';
const REPO = fileURLToPath(new URL('../', import.meta.url));

const benchIssuer = await startBenchIssuer();
const sameToken = await benchIssuer.mint('bench');
const distinct = await Promise.all(Array.from({ length: 512 }, (_, i) => benchIssuer.mint(`user-${i}`)));
const AuthService = (loadPackageDefinition(loadGatehouseProto()) as any).gatehouse.v1.AuthService;
const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-workers-'));

interface Figures {
  calls_per_second: number;
  p50_ms: number;
  p99_ms: number;
  server_cpu_us_per_call: number;
  calls: number;
}

/** Starts `gatehouse serve` with `workers`; resolves with its gRPC port and the pids of its process group. */
async function startServe(workers: number, cache: boolean) {
  const file = join(dir, `gatehouse-${workers}-${cache}.yaml`);
  writeFileSync(
    file,
    `server: { grpc: "127.0.0.1:0", http: "127.0.0.1:0", workers: ${workers} }
issuers: [{ id: bench, type: oidc, issuer: "${benchIssuer.issuer}", audiences: [api://orders] }]
rules: [{ id: orders-read, actions: ["/orders.v1.Orders/Get*"], any_roles: [Orders.Read] }]
decisions: { max_entries: ${cache ? 100_000 : 0} }
`,
  );
  // The log (an audit line per call) goes to a file, as production writes it, not through this process's CPU.
  const logFile = `${file}.log`;
  const out = openSync(logFile, 'w');
  const child = spawn(process.execPath, [...gatehouseEntry(), 'serve', '--config', file], {
    cwd: REPO,
    stdio: ['ignore', out, 'inherit'],
  });
  closeSync(out);
  let exited = false;
  child.once('exit', () => (exited = true));
  const ready = workers > 1 ? 'workers serving' : 'gatehouse listening';
  let line: string | undefined;
  while (
    !(line = readFileSync(logFile, 'utf8')
      .split('\n')
      .find((l) => l.includes(`"msg":"${ready}"`)))
  ) {
    if (exited) throw new Error(`gatehouse serve exited: ${readFileSync(logFile, 'utf8')}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const log = JSON.parse(line) as { grpc: number; pids?: number[] };
  const started = { grpc: log.grpc, pids: [child.pid!, ...(log.pids ?? [])] };
  // Let every worker's first key fetch land.
  await new Promise((resolve) => setTimeout(resolve, 500));
  return { ...started, stop: () => new Promise((resolve) => child.once('exit', resolve).kill('SIGTERM')) };
}

async function run(workers: number, cache: boolean, tokenFor: (i: number) => string): Promise<Figures> {
  const serve = await startServe(workers, cache);
  // A pool of its own per client, so each is its own connection (grpc-js shares connections between like clients).
  const clients: (Client & Record<string, any>)[] = Array.from(
    { length: CONNECTIONS },
    () => new AuthService(`127.0.0.1:${serve.grpc}`, credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 }),
  );
  const call = (i: number) =>
    new Promise<void>((resolve, reject) =>
      clients[i % CONNECTIONS]!.Authorize({ token: tokenFor(i), action: ACTION }, (err: Error | null, res: { allowed: boolean }) =>
        err ? reject(err) : res.allowed ? resolve() : reject(new Error(`denied: ${JSON.stringify(res)}`)),
      ),
    );
  for (let i = 0; i < 2000; i += IN_FLIGHT) await Promise.all(Array.from({ length: IN_FLIGHT }, (_, j) => call(i + j)));

  // The first pid is the process started (the primary, or the only server): its tree is the whole group.
  const groupCpu = () => treeCpuMicros(serve.pids[0]!);
  const latencies: number[] = [];
  let issued = 0;
  const cpuBefore = groupCpu();
  const start = performance.now();
  const loop = async () => {
    while (performance.now() - start < DURATION_MS) {
      const t = performance.now();
      await call(issued++);
      latencies.push(performance.now() - t);
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, loop));
  const seconds = (performance.now() - start) / 1000;
  const cpu = groupCpu() - cpuBefore;
  for (const client of clients) client.close();
  await serve.stop();
  latencies.sort((a, b) => a - b);
  return {
    calls_per_second: Math.round(latencies.length / seconds),
    p50_ms: Math.round(percentile(latencies, 50) * 100) / 100,
    p99_ms: Math.round(percentile(latencies, 99) * 100) / 100,
    server_cpu_us_per_call: Math.round(cpu / latencies.length),
    calls: latencies.length,
  };
}

/** The median of each figure over the rounds (with 2 rounds: their mean). */
function middle(runs: Figures[]): Figures {
  const pick = (key: keyof Figures) => {
    const sorted = runs.map((r) => r[key]).sort((a, b) => a - b);
    const mid = sorted.length / 2;
    return sorted.length % 2 ? sorted[Math.floor(mid)]! : Math.round(((sorted[mid - 1]! + sorted[mid]!) / 2) * 100) / 100;
  };
  return {
    calls_per_second: pick('calls_per_second'),
    p50_ms: pick('p50_ms'),
    p99_ms: pick('p99_ms'),
    server_cpu_us_per_call: pick('server_cpu_us_per_call'),
    calls: pick('calls'),
  };
}

const scenarios = {
  warm: { cache: true, tokenFor: () => sameToken },
  cold: { cache: false, tokenFor: (i: number) => distinct[i % distinct.length]! },
};
const loadBefore = Math.round(loadavg()[0]! * 10) / 10;
const results: Record<string, any> = { in_flight: IN_FLIGHT, connections: CONNECTIONS, duration_ms: DURATION_MS, rounds: ROUNDS };
try {
  for (const [name, { cache, tokenFor }] of Object.entries(scenarios)) {
    const runs: Record<1 | 2, Figures[]> = { 1: [], 2: [] };
    for (let round = 0; round < ROUNDS; round++) {
      for (const workers of [1, 2] as const) {
        const figures = await run(workers, cache, tokenFor);
        runs[workers].push(figures);
        console.log(`${`${name}, workers: ${workers}`.padEnd(20)} ${JSON.stringify(figures)}`);
      }
    }
    const one = middle(runs[1]);
    const two = middle(runs[2]);
    results[name] = {
      workers_1: one,
      workers_2: two,
      calls_per_second_ratio: Math.round((two.calls_per_second / one.calls_per_second) * 100) / 100,
    };
    console.log(`${name}: 2 workers ÷ 1 worker = ${(two.calls_per_second / one.calls_per_second).toFixed(2)} calls/s`);
  }
  // How busy the machine was (other processes take cores too): figures from a busy machine say little.
  results.load_average_1m = { before: loadBefore, after: Math.round(loadavg()[0]! * 10) / 10 };
  console.log(`load average ${loadBefore} → ${results.load_average_1m.after}`);
  console.log(`wrote ${writeResults('workers', results)}`);
} finally {
  benchIssuer.close();
  rmSync(dir, { recursive: true, force: true });
}
