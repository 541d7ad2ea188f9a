/**
 * Authorize over gRPC against a bare gRPC echo of the same contract, in one run: calls/s and latency at 64 in
 * flight, and the server's own CPU per call (a Node load generator saturates before the server on 2 cores, so
 * server CPU per call is the figure that transfers). Scenarios: echo (baseline), Authorize with a warm decision
 * cache (the same token again and again), Authorize with the decision cache off (full verification each call).
 * Run: make bench. Writes bench/results/authorize.json.
 */
import { credentials, loadPackageDefinition, type Client } from '@grpc/grpc-js';
import { spawn } from 'node:child_process';
import { loadGatehouseProto } from '../src/contract/proto.js';
import { startBenchIssuer } from './lib/bench-issuer.js';
import { percentile, processCpuMicros, writeResults } from './lib/measure.js';

const IN_FLIGHT = 64;
const DURATION_MS = 3000;
const ACTION = '/orders.v1.Orders/GetOrder';

// A loopback issuer for the gatehouse child: discovery + JWKS.
const benchIssuer = await startBenchIssuer();
const issuer = benchIssuer.issuer;
const mint = (sub: string) => benchIssuer.mint(sub);
const sameToken = await mint('bench');

const AuthService = (loadPackageDefinition(loadGatehouseProto()) as any).gatehouse.v1.AuthService;

async function scenario(name: string, mode: string, env: Record<string, string>, tokenFor: (i: number) => string) {
  // BENCH_CPU_PROF=1 writes a V8 CPU profile of each server to bench/profiles/ (open in Chrome DevTools).
  const profile = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${new URL('./profiles/', import.meta.url).pathname}`] : [];
  const child = spawn(process.execPath, [...profile, '--import', 'tsx', new URL('./lib/bench-server.ts', import.meta.url).pathname, mode], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      const match = /PORT (\d+)/.exec(chunk.toString());
      if (match) resolve(Number(match[1]));
    });
    child.once('exit', (code) => reject(new Error(`bench server exited ${code}`)));
  });
  const client: Client & Record<string, any> = new AuthService(`127.0.0.1:${port}`, credentials.createInsecure());
  const call = (i: number) =>
    new Promise<void>((resolve, reject) =>
      client.Authorize({ token: tokenFor(i), action: ACTION }, (err: Error | null, res: { allowed: boolean }) =>
        err ? reject(err) : res.allowed ? resolve() : reject(new Error(`denied: ${JSON.stringify(res)}`)),
      ),
    );
  // Warm up: connections, JIT, caches.
  for (let i = 0; i < 2000; i += IN_FLIGHT) await Promise.all(Array.from({ length: IN_FLIGHT }, (_, j) => call(i + j)));

  const latencies: number[] = [];
  let issued = 0;
  const cpuBefore = processCpuMicros(child.pid!);
  const start = performance.now();
  const worker = async () => {
    while (performance.now() - start < DURATION_MS) {
      const t = performance.now();
      await call(issued++);
      latencies.push(performance.now() - t);
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  const seconds = (performance.now() - start) / 1000;
  const serverCpu = processCpuMicros(child.pid!) - cpuBefore;
  client.close();
  child.kill('SIGTERM');
  latencies.sort((a, b) => a - b);
  const result = {
    calls_per_second: Math.round(latencies.length / seconds),
    p50_ms: Math.round(percentile(latencies, 50) * 100) / 100,
    p99_ms: Math.round(percentile(latencies, 99) * 100) / 100,
    server_cpu_us_per_call: Math.round(serverCpu / latencies.length),
    calls: latencies.length,
  };
  console.log(`${name.padEnd(28)} ${JSON.stringify(result)}`);
  return result;
}

const distinct = await Promise.all(Array.from({ length: 512 }, (_, i) => mint(`user-${i}`)));
const results = {
  in_flight: IN_FLIGHT,
  echo_baseline: await scenario('echo (bare grpc-js)', 'echo', {}, () => sameToken),
  authorize_cached: await scenario('authorize, decision cached', 'gatehouse', { ISSUER_URL: issuer }, () => sameToken),
  authorize_uncached: await scenario(
    'authorize, cache off',
    'gatehouse',
    { ISSUER_URL: issuer, DECISION_CACHE: 'off' },
    (i) => distinct[i % 512]!,
  ),
};
const extra = (r: { server_cpu_us_per_call: number }) => r.server_cpu_us_per_call - results.echo_baseline.server_cpu_us_per_call;
console.log(
  `gatehouse server CPU over the echo baseline: cached +${extra(results.authorize_cached)} µs/call, uncached +${extra(results.authorize_uncached)} µs/call`,
);
console.log(`wrote ${writeResults('authorize', results)}`);
benchIssuer.close();
