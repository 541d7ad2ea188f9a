/**
 * What protection costs: orders.v1.Orders/GetOrder protected by the server interceptor (warm local decision
 * cache, token attached by the client interceptor) against the same call to the same server code without
 * protection, in one run, interleaved. Each orders server runs in its own child process so its CPU per call
 * is measured on its own; the load generator and gatehouse (asked once, then served from cache) run here.
 * Run: make bench. Writes bench/results/protected-call.json.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { credentials, Metadata } from '@grpc/grpc-js';
import { startGatehouse } from '../src/app.js';
import { createClientInterceptor, staticToken } from '../src/client/index.js';
import { devConfig } from '../src/dev/dev-config.js';
import { startDevIssuer } from '../src/dev/dev-issuer.js';
import { createLogger } from '../src/telemetry/logger.js';
import { startOrders } from '../examples/orders/server.js';
import { ordersPackage, type OrdersClient } from '../examples/orders/orders-proto.js';
import { percentile, processCpuMicros, writeResults } from './lib/measure.js';

const IN_FLIGHT = 32;
const ROUNDS = 4;
const ROUND_MS = 750;

// Child mode: one orders server, protected when given gatehouse's address; prints its port.
if (process.argv[2] === 'serve') {
  const orders = await startOrders({ listen: '127.0.0.1:0', gatehouse: process.argv[3] });
  console.log(`PORT ${orders.port}`);
  process.once('SIGTERM', () => void orders.close().then(() => process.exit(0)));
} else {
  await main();
}

function serve(gatehouse?: string): Promise<{ child: ChildProcess; port: number }> {
  // BENCH_CPU_PROF=1 writes a V8 CPU profile of each orders server to bench/profiles/.
  const profile = process.env.BENCH_CPU_PROF
    ? ['--cpu-prof', `--cpu-prof-dir=${fileURLToPath(new URL('./profiles/', import.meta.url))}`]
    : [];
  const args = [...profile, '--import', 'tsx', fileURLToPath(import.meta.url), 'serve', ...(gatehouse ? [gatehouse] : [])];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      const match = /PORT (\d+)/.exec(chunk.toString());
      if (match) resolve({ child, port: Number(match[1]) });
    });
    child.once('exit', (code) => reject(new Error(`orders child exited ${code}`)));
  });
}

interface Side {
  readonly name: string;
  readonly child: ChildProcess;
  readonly call: () => Promise<void>;
  readonly latencies: number[];
  cpuMicros: number;
  seconds: number;
}

async function main(): Promise<void> {
  const issuer = await startDevIssuer({ port: 0 });
  const gatehouse = await startGatehouse(devConfig({ issuerUrl: issuer.url, grpc: '127.0.0.1:0', http: '127.0.0.1:0' }), {
    logger: createLogger({ level: 'silent' }),
  });
  await gatehouse.prefetched;
  const token = await issuer.mint({ sub: 'bench', app: true, roles: ['Orders.Read'] });
  const [bare, guarded] = await Promise.all([serve(), serve(`127.0.0.1:${gatehouse.grpcPort}`)]);
  const Orders = ordersPackage();
  const unaryCall = (client: OrdersClient, metadata: () => Metadata) => () =>
    new Promise<void>((resolve, reject) =>
      client.GetOrder({ id: 'o-1001' }, metadata(), {}, (err, order) =>
        err ? reject(err) : order ? resolve() : reject(new Error('empty')),
      ),
    );
  const plain = new Orders(`127.0.0.1:${bare.port}`, credentials.createInsecure());
  const sameHeaders = () => {
    const m = new Metadata();
    m.set('authorization', `Bearer ${token}`);
    m.set('x-request-id', 'bench');
    return m;
  };
  const protectedClient = new Orders(`127.0.0.1:${guarded.port}`, credentials.createInsecure(), {
    interceptors: [createClientInterceptor({ token: staticToken(token) })],
  });
  const sides: Side[] = [
    { name: 'unprotected', child: bare.child, call: unaryCall(plain, sameHeaders), latencies: [], cpuMicros: 0, seconds: 0 },
    {
      name: 'protected',
      child: guarded.child,
      call: unaryCall(protectedClient, () => new Metadata()),
      latencies: [],
      cpuMicros: 0,
      seconds: 0,
    },
  ];

  for (const side of sides) for (let i = 0; i < 1500; i += IN_FLIGHT) await Promise.all(Array.from({ length: IN_FLIGHT }, side.call));
  for (let round = 0; round < ROUNDS; round++) {
    for (const side of round % 2 === 0 ? sides : [...sides].reverse()) await measure(side);
  }

  const figures = Object.fromEntries(sides.map((s) => [s.name, summary(s)])) as Record<
    'unprotected' | 'protected',
    ReturnType<typeof summary>
  >;
  /** How much larger `a` is than `b`, in percent. */
  const pct = (a: number, b: number) => Math.round(((a - b) / b) * 1000) / 10;
  const results = {
    call: '/orders.v1.Orders/GetOrder',
    in_flight: IN_FLIGHT,
    rounds: ROUNDS,
    round_ms: ROUND_MS,
    ...figures,
    overhead_pct: {
      // Throughput lost to protection (negative: within noise, protection ran faster).
      calls_per_second: -pct(figures.protected.calls_per_second, figures.unprotected.calls_per_second),
      p50: pct(figures.protected.p50_us, figures.unprotected.p50_us),
      p99: pct(figures.protected.p99_us, figures.unprotected.p99_us),
      server_cpu_per_call: pct(figures.protected.server_cpu_us_per_call, figures.unprotected.server_cpu_us_per_call),
    },
  };
  for (const side of sides) console.log(`${side.name.padEnd(12)} ${JSON.stringify(figures[side.name as 'protected'])}`);
  console.log(`overhead %   ${JSON.stringify(results.overhead_pct)}`);
  console.log(`wrote ${writeResults('protected-call', results)}`);

  plain.close();
  protectedClient.close();
  for (const side of sides) side.child.kill('SIGTERM');
  await gatehouse.shutdown();
  await issuer.close();
}

async function measure(side: Side): Promise<void> {
  const cpuBefore = processCpuMicros(side.child.pid!);
  const start = performance.now();
  const worker = async () => {
    while (performance.now() - start < ROUND_MS) {
      const t = performance.now();
      await side.call();
      side.latencies.push(performance.now() - t);
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  side.seconds += (performance.now() - start) / 1000;
  side.cpuMicros += processCpuMicros(side.child.pid!) - cpuBefore;
}

function summary(side: Side) {
  const sorted = [...side.latencies].sort((a, b) => a - b);
  return {
    calls: sorted.length,
    calls_per_second: Math.round(sorted.length / side.seconds),
    p50_us: Math.round(percentile(sorted, 50) * 1000),
    p99_us: Math.round(percentile(sorted, 99) * 1000),
    server_cpu_us_per_call: Math.round(side.cpuMicros / sorted.length),
  };
}
