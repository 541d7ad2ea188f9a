/**
 * The Authorize hot path, A/B/A/B: a bare grpc-js echo of the same contract, and gatehouse answering a cached
 * Authorize, in alternating rounds in one run (the machine is shared and noisy), each server in its own child so
 * its CPU per call is read alone. With HOT_PATH_BEFORE=DIR (a copy of an older tree, its node_modules linked) a
 * third side runs that tree's gatehouse in the same rounds: a change's before and after, measured side by side.
 * Run: node --import tsx bench/hot-path.bench.ts [rounds=4] [round-ms=2500]. Writes bench/results/hot-path.json.
 */
import { credentials, loadPackageDefinition, type Client } from '@grpc/grpc-js';
import { spawn, type ChildProcess } from 'node:child_process';
import { loadGatehouseProto } from '../src/contract/proto.js';
import { startBenchIssuer } from './lib/bench-issuer.js';
import { percentile, processCpuMicros, writeResults } from './lib/measure.js';

const ROUNDS = Number(process.argv[2] ?? 4);
const ROUND_MS = Number(process.argv[3] ?? 2500);
const IN_FLIGHT = 64;
const ACTION = '/orders.v1.Orders/GetOrder';

const benchIssuer = await startBenchIssuer();
const token = await benchIssuer.mint('bench');
const AuthService = (loadPackageDefinition(loadGatehouseProto()) as any).gatehouse.v1.AuthService;

interface Side {
  readonly name: string;
  readonly child: ChildProcess;
  readonly client: Client & Record<string, any>;
  readonly rounds: { cpuUsPerCall: number; callsPerSecond: number; p99Ms: number }[];
}

async function start(name: string, tree: string, mode: string): Promise<Side> {
  const profile = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${new URL('./profiles/', import.meta.url).pathname}`] : [];
  const child = spawn(process.execPath, [...profile, '--import', 'tsx', `${tree}/bench/lib/bench-server.ts`, mode], {
    cwd: tree,
    env: { ...process.env, ISSUER_URL: benchIssuer.issuer },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      const match = /PORT (\d+)/.exec(chunk.toString());
      if (match) resolve(Number(match[1]));
    });
    child.once('exit', (code) => reject(new Error(`${name} server exited ${code}`)));
  });
  return { name, child, client: new AuthService(`127.0.0.1:${port}`, credentials.createInsecure()), rounds: [] };
}

const call = (side: Side) =>
  new Promise<void>((resolve, reject) =>
    side.client.Authorize({ token, action: ACTION }, (err: Error | null, res: { allowed: boolean }) =>
      err ? reject(err) : res.allowed ? resolve() : reject(new Error(`denied: ${JSON.stringify(res)}`)),
    ),
  );

async function round(side: Side, ms: number): Promise<void> {
  const latencies: number[] = [];
  const cpuBefore = processCpuMicros(side.child.pid!);
  const started = performance.now();
  const worker = async () => {
    while (performance.now() - started < ms) {
      const t = performance.now();
      await call(side);
      latencies.push(performance.now() - t);
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  const seconds = (performance.now() - started) / 1000;
  const cpu = processCpuMicros(side.child.pid!) - cpuBefore;
  latencies.sort((a, b) => a - b);
  side.rounds.push({
    cpuUsPerCall: Math.round((cpu / latencies.length) * 10) / 10,
    callsPerSecond: Math.round(latencies.length / seconds),
    p99Ms: Math.round(percentile(latencies, 99) * 100) / 100,
  });
}

const here = new URL('.', import.meta.url).pathname.replace(/\/bench\/$/, '');
const sides = [await start('echo', here, 'echo'), await start('gatehouse', here, 'gatehouse')];
if (process.env.HOT_PATH_BEFORE) sides.splice(1, 0, await start('gatehouse (before)', process.env.HOT_PATH_BEFORE, 'gatehouse'));
for (const side of sides) await round(side, 1500); // warm-up: connections, JIT, caches
for (const side of sides) side.rounds.length = 0;
// A/B/A/B, and B/A on every other round, so that no side always follows the same one.
for (let r = 0; r < ROUNDS; r++) for (const side of r % 2 === 0 ? sides : [...sides].reverse()) await round(side, ROUND_MS);

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const results: Record<string, unknown> = { in_flight: IN_FLIGHT, rounds: ROUNDS, round_ms: ROUND_MS };
const echoCpu = median(sides[0]!.rounds.map((r) => r.cpuUsPerCall));
for (const side of sides) {
  const cpu = median(side.rounds.map((r) => r.cpuUsPerCall));
  const summary = {
    server_cpu_us_per_call: cpu,
    over_echo_us: Math.round((cpu - echoCpu) * 10) / 10,
    calls_per_second: median(side.rounds.map((r) => r.callsPerSecond)),
    p99_ms: median(side.rounds.map((r) => r.p99Ms)),
    rounds: side.rounds,
  };
  results[side.name] = summary;
  console.log(
    `${side.name.padEnd(20)} cpu/call ${cpu} µs (+${summary.over_echo_us} over echo)  ${summary.calls_per_second} calls/s  p99 ${summary.p99_ms} ms  rounds ${side.rounds.map((r) => r.cpuUsPerCall).join(' ')}`,
  );
  side.client.close();
  side.child.kill('SIGTERM');
}
console.log(`wrote ${writeResults('hot-path', results)}`);
benchIssuer.close();
