/**
 * The server side of bench/authorize.bench.ts, run as a child process so its CPU time can be read alone.
 * Mode `echo`: the same AuthService contract answered with a constant (the bare gRPC baseline).
 * Mode `gatehouse`: the real gatehouse, issuer at ISSUER_URL, decision cache on or off (DECISION_CACHE).
 * Prints `PORT <n>` when listening.
 */
import { Server, ServerCredentials, type ServiceDefinition } from '@grpc/grpc-js';
import { Writable } from 'node:stream';
import { startGatehouse } from '../../src/app.js';
import { validateConfig } from '../../src/config/load.js';
import { AUTH_SERVICE_NAME, loadGatehouseProto } from '../../src/contract/proto.js';
import { createLogger } from '../../src/telemetry/logger.js';

const mode = process.argv[2];

if (mode === 'echo') {
  const service = loadGatehouseProto()[AUTH_SERVICE_NAME] as ServiceDefinition;
  const server = new Server();
  const reply = { allowed: true, principal: null, denial: null, rule: 'echo', cacheFor: { seconds: 60, nanos: 0 } };
  server.addService(service, {
    Authorize: (_call: unknown, callback: (e: null, r: unknown) => void) => callback(null, reply),
    Verify: (_call: unknown, callback: (e: null, r: unknown) => void) => callback(null, { valid: false }),
    AuthorizeBatch: (_call: unknown, callback: (e: null, r: unknown) => void) => callback(null, { results: [] }),
  });
  server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, port) => {
    if (err) throw err;
    console.log(`PORT ${port}`);
  });
} else {
  const config = validateConfig({
    server: { grpc: '127.0.0.1:0', http: '127.0.0.1:0' },
    issuers: [{ id: 'bench', type: 'oidc', issuer: process.env.ISSUER_URL, audiences: ['api://orders'] }],
    rules: [{ id: 'orders-read', actions: ['/orders.v1.Orders/Get*'], any_roles: ['Orders.Read'] }],
    decisions: { max_entries: process.env.DECISION_CACHE === 'off' ? 0 : 100_000 },
  });
  // The audit line is part of every decision's cost: write it, to a sink, as production writes it.
  const sink = new Writable({ write: (_chunk, _enc, cb) => cb() });
  const gatehouse = await startGatehouse(config, { logger: createLogger({ level: 'info', destination: sink }) });
  await gatehouse.prefetched;
  console.log(`PORT ${gatehouse.grpcPort}`);
}

// Exit normally on SIGTERM so `--cpu-prof` (BENCH_CPU_PROF=1 in bench/authorize.bench.ts) can write its profile.
process.on('SIGTERM', () => process.exit(0));
