/**
 * One real `gatehouse serve` child (the built CLI, as production runs it: runtime.ts) on a config written to a temp folder: the bench
 * issuer, rules for the gRPC action and the HTTP path the load uses, audit lines written to stdout (a pipe the bench
 * reads and drops). BENCH_SERVER_CONFIG (JSON) is merged into `server:`, e.g. '{"workers":2}' once that exists.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BENCH_AUDIENCE } from '../lib/bench-issuer.js';
import { gatehouseEntry } from './runtime.js';
import { metric } from './scrape-metric.js';
import { spawnServer, type SpawnedServer } from './server-process.js';

export const GRPC_ACTION = '/orders.v1.Orders/GetOrder';
export const HTTP_PATH = '/orders/42';
/** Ten actions for AuthorizeBatch, all allowed by the read rule. */
export const BATCH_ACTIONS = Array.from(
  { length: 10 },
  (_, i) => `/orders.v1.Orders/Get${['Order', 'Item', 'Status', 'Invoice', 'Receipt'][i % 5]}${i}`,
);
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface GatehouseChildOptions {
  readonly issuer: string;
  readonly decisions?: Record<string, unknown>;
  readonly keys?: Record<string, unknown>;
  /** Top-level config sections replacing the bench's own (`logging: { level: 'warn' }` for a run without audit lines). */
  readonly overrides?: Record<string, unknown>;
  /** Extra node flags (--cpu-prof…). */
  readonly nodeFlags?: readonly string[];
}

export type GatehouseChild = SpawnedServer<{ grpc: number; http: number }> & { readonly grpcAddress: string; readonly httpAddress: string };

export function gatehouseConfig(options: GatehouseChildOptions): Record<string, unknown> {
  const extra = process.env.BENCH_SERVER_CONFIG ? (JSON.parse(process.env.BENCH_SERVER_CONFIG) as Record<string, unknown>) : {};
  return {
    server: { grpc: '127.0.0.1:0', http: '127.0.0.1:0', ...extra },
    issuers: [{ id: 'bench', type: 'oidc', issuer: options.issuer, audiences: [BENCH_AUDIENCE], algorithms: ['RS256', 'ES256'] }],
    rules: [
      { id: 'orders-read', actions: ['/orders.v1.Orders/Get*'], any_roles: ['Orders.Read'] },
      { id: 'orders-http', actions: ['GET /orders/*'], any_roles: ['Orders.Read'] },
    ],
    ...(options.decisions ? { decisions: options.decisions } : {}),
    ...(options.keys ? { keys: options.keys } : {}),
    logging: { level: 'info' },
    ...options.overrides,
  };
}

export async function startGatehouseChild(options: GatehouseChildOptions): Promise<GatehouseChild> {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-'));
  const file = join(dir, 'gatehouse.yaml');
  writeFileSync(file, JSON.stringify(gatehouseConfig(options), null, 2));
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('GATEHOUSE_') && !k.startsWith('NODE_TEST')) env[k] = v;
  const server = await spawnServer(
    [...(options.nodeFlags ?? []), ...gatehouseEntry(), 'serve', '--config', file],
    (line) => {
      if (!line.includes('gatehouse listening')) return undefined;
      const log = JSON.parse(line) as { grpc: number; http: number };
      return { grpc: log.grpc, http: log.http };
    },
    { env, cwd: REPO_ROOT },
  );
  const stop = server.stop;
  // Listening is not ready: wait for the issuer's keys (/readyz is ready during the first fetch already), or on a
  // busy machine the first calls are refused KEYS_UNAVAILABLE.
  const deadline = Date.now() + 30_000;
  while ((await metric(`127.0.0.1:${server.ready.http}`, 'gatehouse_keys_held').catch(() => 0)) === 0) {
    if (Date.now() > deadline) {
      await stop();
      throw new Error('gatehouse serve did not become ready within 30 s');
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return Object.assign(server, {
    grpcAddress: `127.0.0.1:${server.ready.grpc}`,
    httpAddress: `127.0.0.1:${server.ready.http}`,
    stop: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  });
}
