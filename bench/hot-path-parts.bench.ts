/**
 * The parts of the Authorize hot path, each measured in CPU time per operation (process.cpuUsage, so a busy machine
 * inflates it less than wall time), before and after a change, alternated A/B/A/B in one run. "Before" is the
 * same module from an older tree: HOT_PATH_BEFORE=DIR (a copy of that commit, its node_modules linked). Without it,
 * only the current tree is measured.
 * Run: HOT_PATH_BEFORE=/tmp/hot-base node --import tsx bench/hot-path-parts.bench.ts. Writes bench/results/hot-path-parts.json.
 */
import type { ServiceDefinition } from '@grpc/grpc-js';
import { Writable } from 'node:stream';
import { startBenchIssuer } from './lib/bench-issuer.js';
import { writeResults } from './lib/measure.js';

const here = new URL('..', import.meta.url).pathname;
const before = process.env.HOT_PATH_BEFORE;
const trees = before ? { before, after: here } : { after: here };
const ROUNDS = 5;
const OPS = 50_000;

/** CPU microseconds per call of `fn`, after a warm-up. */
function cpuPerOp(fn: () => unknown, ops = OPS): number {
  for (let i = 0; i < ops / 5; i++) fn();
  const start = process.cpuUsage();
  for (let i = 0; i < ops; i++) fn();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / ops;
}

/** The same for an asynchronous `fn`, each call awaited. */
async function cpuPerOpAsync(fn: () => Promise<unknown>, ops = OPS): Promise<number> {
  for (let i = 0; i < ops / 5; i++) await fn();
  const start = process.cpuUsage();
  for (let i = 0; i < ops; i++) await fn();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / ops;
}

const principal = {
  issuer: 'http://127.0.0.1:1',
  issuerId: 'bench',
  subject: 'bench',
  tenantId: '',
  objectId: '',
  clientId: '',
  roles: ['Orders.Read'],
  scopes: [],
  groups: [],
  groupsOverage: false,
  appOnly: false,
  expiresAt: 1_800_000_000,
  tokenVersion: '',
  claims: { roles: ['Orders.Read'], iss: 'http://127.0.0.1:1', aud: 'api://orders', sub: 'bench', iat: 1_799_996_400, exp: 1_800_000_000 },
};
const outcome = { allowed: true, principal, issuerId: 'bench', rule: 'orders-read', cacheForMs: 59_000, cached: true } as const;
const sink = new Writable({ write: (_chunk, _enc, cb) => cb() });

/**
 * An Authorize response about `principalOf()`, encoded as the tree's server does: the principal written straight to
 * bytes (prepared-responses.ts preparePrincipal, `keep` as for a cached principal), else (an older tree) through its
 * wire form and the prepared or plain encoder.
 */
async function authorizeEncoder(tree: string, principalOf: () => typeof principal, keep: boolean): Promise<() => unknown> {
  const proto = await import(`${tree}/src/contract/proto.ts`);
  const wire = await import(`${tree}/src/contract/wire-principal.ts`);
  const { durationFromMs } = await import(`${tree}/src/contract/wire-duration.ts`);
  const response = (p: unknown) => ({ allowed: true, principal: p, denial: null, rule: 'orders-read', cacheFor: durationFromMs(59_000) });
  let prepared: any;
  try {
    prepared = await import(`${tree}/src/server/prepared-responses.ts`);
  } catch {
    // an older tree: the plain proto-loader encoder
    const serialize = (proto.loadGatehouseProto()[proto.AUTH_SERVICE_NAME] as ServiceDefinition).Authorize!.responseSerialize;
    return () => serialize(response(wire.toWirePrincipal(principalOf())));
  }
  const encode = prepared.responseEncoders(proto.loadGatehouseTypes()).Authorize;
  if (prepared.preparePrincipal) return () => encode(response(prepared.preparePrincipal(principalOf(), keep)));
  return () => encode(response(wire.toWirePrincipal(principalOf(), keep)));
}

type Part = (tree: string) => Promise<() => unknown>;
const parts: Record<string, Part> = {
  'encode AuthorizeResponse (cached principal)': (tree) => authorizeEncoder(tree, () => principal, true),
  // A token seen once (cold): a new principal object every call, its claims as a fresh JSON.parse would give them.
  'encode AuthorizeResponse (fresh principal)': (tree) => {
    let n = 0;
    return authorizeEncoder(
      tree,
      () => ({ ...principal, subject: `cold-${n}`, claims: { ...principal.claims, sub: `cold-${n++}` } }),
      false,
    );
  },
  async 'Envoy Check allowed answer (build + encode)'(tree) {
    const proto = await import(`${tree}/src/contract/proto.ts`);
    const { allowResponse } = await import(`${tree}/src/server/envoy-response.ts`);
    let serialize = (proto.loadEnvoyAuthProto()[proto.ENVOY_AUTHORIZATION_SERVICE] as ServiceDefinition).Check!.responseSerialize;
    try {
      const prepared = await import(`${tree}/src/server/prepared-check-response.ts`);
      serialize = prepared.checkResponseEncoder(proto.loadEnvoyAuthTypes());
    } catch {
      // an older tree: the plain proto-loader encoder
    }
    const request = { action: 'GET /orders/1', grpc: false, requestId: 'r', token: 't', foreignIdentityHeaders: [], facts: {} };
    return () => serialize(allowResponse(outcome, request, false));
  },
  async 'HTTP identity headers (allowed answer)'(tree) {
    const answer = await import(`${tree}/src/server/http-answer.ts`);
    if (answer.allowedHeaders) return () => answer.allowedHeaders(principal);
    return () => ({ ...answer.identityHeaders(principal), 'content-length': '0' }); // an older tree
  },
  async 'client: warm local cache (key + lookup)'(tree) {
    const { cacheKey, LocalDecisionCache } = await import(`${tree}/src/client/local-cache.ts`);
    const cache = new LocalDecisionCache({ maxEntries: 10_000, maxBytes: 32 * 1024 * 1024 }, Date.now);
    const token = 'eyJ'.padEnd(900, 'x');
    const action = '/orders.v1.Orders/GetOrder';
    cache.set(
      cacheKey(token, action, undefined),
      { allowed: true, rule: 'orders-read', principal, cacheForMs: 3_600_000, cached: false },
      token.length,
    );
    return () => cache.get(cacheKey(token, action, undefined));
  },
  async 'hash a token (900 characters)'(tree) {
    const { hashToken } = await import(`${tree}/src/contract/token-cache.ts`);
    const token = 'eyJ'.padEnd(900, 'x');
    return () => hashToken(token);
  },
  async 'engine: cached Authorize, in process (async)'(tree) {
    const { validateConfig } = await import(`${tree}/src/config/load.ts`);
    const { createAuthorizer } = await import(`${tree}/src/decisions/create-authorizer.ts`);
    const config = validateConfig({
      issuers: [{ id: 'bench', type: 'oidc', issuer: benchIssuer.issuer, audiences: ['api://orders'] }],
      rules: [{ id: 'read', actions: ['/orders.v1.Orders/Get*'], any_roles: ['Orders.Read'] }],
    });
    const authorizer = createAuthorizer(config, {}, undefined, undefined);
    await authorizer.verification.keyCache.start();
    await authorizer.authorize(benchToken, '/orders.v1.Orders/GetOrder');
    return () => authorizer.authorize(benchToken, '/orders.v1.Orders/GetOrder');
  },
  async 'refuse before decode (Authorize request)'(tree) {
    const { refuseBeforeDecode } = await import(`${tree}/src/server/request-limits.ts`);
    const proto = await import(`${tree}/src/contract/proto.ts`);
    const service = proto.loadGatehouseProto()[proto.AUTH_SERVICE_NAME] as ServiceDefinition;
    const bytes = service.Authorize!.requestSerialize({ token: 'x'.repeat(800), action: '/orders.v1.Orders/GetOrder', attributes: {} });
    return () => refuseBeforeDecode('Authorize', bytes, 65_536);
  },
  async 'metrics of one gRPC Authorize (decision + gRPC series)'(tree) {
    const { createMetrics } = await import(`${tree}/src/telemetry/metrics.ts`);
    const { decisionMetrics } = await import(`${tree}/src/telemetry/decision-metrics.ts`);
    const metrics = createMetrics({
      version: 'bench',
      tenantLabel: false,
      keySources: () => [],
      decisionCacheSize: () => 0,
      now: Date.now,
      processMetrics: false,
    });
    const hooks = decisionMetrics(metrics, { isConfiguredIssuer: () => true });
    const method = { grpc_type: 'unary', grpc_service: 'gatehouse.v1.AuthService', grpc_method: 'Authorize' };
    const handledOk = { ...method, grpc_code: 'OK' };
    // What the gRPC metrics interceptor writes per call: started, handled (OK), handling seconds.
    const grpcSeries = metrics.grpc.started.series
      ? {
          started: metrics.grpc.started.series(method),
          handled: metrics.grpc.handled.series({ ...method, grpc_code: 'OK' }),
          handling: metrics.grpc.handling.series(method),
        }
      : undefined;
    const grpcCall = grpcSeries
      ? () => {
          grpcSeries.started.count += 1;
          grpcSeries.handled.count += 1;
          grpcSeries.handling.observe(0.00021);
        }
      : () => {
          // an older tree: prom-client's own inc and observe, with the labels built once per method
          metrics.grpc.started.inc(method);
          metrics.grpc.handled.inc(handledOk);
          metrics.grpc.handling.observe(method, 0.00021);
        };
    return () => {
      grpcCall();
      hooks.onAuthorize('/orders.v1.Orders/GetOrder', outcome, 0.000012, 'bench-1', 'grpc');
    };
  },
  async 'audit line'(tree) {
    const { createLogger } = await import(`${tree}/src/telemetry/logger.ts`);
    const { AuditLog } = await import(`${tree}/src/telemetry/audit.ts`);
    const audit = new AuditLog(createLogger({ level: 'info', destination: sink }));
    return () =>
      audit.record({ requestId: 'bench-1', action: '/orders.v1.Orders/GetOrder', outcome, latencySeconds: 0.000012, door: 'grpc' });
  },
};

const benchIssuer = await startBenchIssuer();
const benchToken = await benchIssuer.mint('bench');

const results: Record<string, Record<string, number>> = {};
for (const [name, part] of Object.entries(parts)) {
  const fns = Object.fromEntries(await Promise.all(Object.entries(trees).map(async ([side, tree]) => [side, await part(tree)] as const)));
  const runs: Record<string, number[]> = Object.fromEntries(Object.keys(fns).map((side) => [side, []]));
  for (let r = 0; r < ROUNDS; r++) {
    for (const [side, fn] of Object.entries(fns)) {
      runs[side]!.push(name.endsWith('(async)') ? await cpuPerOpAsync(fn as () => Promise<unknown>) : cpuPerOp(fn));
    }
  }
  results[name] = Object.fromEntries(
    Object.entries(runs).map(([side, values]) => [side, Math.round(values.sort((a, b) => a - b)[2]! * 100) / 100]),
  );
  console.log(
    `${name.padEnd(46)} ${Object.entries(results[name]!)
      .map(([side, us]) => `${side} ${us} µs`)
      .join('   ')}`,
  );
}
console.log(`wrote ${writeResults('hot-path-parts', results)}`);
benchIssuer.close();
