/**
 * One call of each door, as a load worker makes it: a function of the call number that resolves when the answer is
 * the expected one and rejects otherwise. Each call spec gets `channels` separate connections, used in turn.
 */
import { Agent, request } from 'node:http';
import { credentials, loadPackageDefinition, makeClientConstructor, Metadata, type Client, type ServiceDefinition } from '@grpc/grpc-js';
import { ENVOY_AUTHORIZATION_SERVICE, loadEnvoyAuthProto, loadGatehouseProto } from '../../src/contract/proto.js';
import { ordersPackage } from '../../examples/orders/orders-proto.js';
import type { CallSpec } from './job.js';
import { tokenSource } from './worker-tokens.js';

type Callback = (err: Error | null, response?: any) => void;
type AnyClient = Client & Record<string, (request: unknown, metadata: Metadata, callback: Callback) => void>;

export interface CallMaker {
  readonly call: (i: number) => Promise<void>;
  readonly close: () => void;
}

// Each client its own connection: grpc-js otherwise shares one subchannel between clients of the same address.
const OWN_CONNECTION = { 'grpc.use_local_subchannel_pool': 1 };

let gatehouseService: new (address: string, creds: ReturnType<typeof credentials.createInsecure>, options: object) => AnyClient;
let envoyService: typeof gatehouseService;

function grpcClients(spec: { address: string }, channels: number, which: 'gatehouse' | 'envoy' | 'orders'): AnyClient[] {
  gatehouseService ??= (loadPackageDefinition(loadGatehouseProto()) as any).gatehouse.v1.AuthService;
  envoyService ??= makeClientConstructor(
    loadEnvoyAuthProto()[ENVOY_AUTHORIZATION_SERVICE] as ServiceDefinition,
    ENVOY_AUTHORIZATION_SERVICE,
  ) as unknown as typeof gatehouseService;
  const Ctor =
    which === 'gatehouse' ? gatehouseService : which === 'envoy' ? envoyService : (ordersPackage() as unknown as typeof gatehouseService);
  return Array.from(
    { length: channels },
    (_, n) => new Ctor(spec.address, credentials.createInsecure(), { ...OWN_CONNECTION, 'bench.channel': n }),
  );
}

function unary(
  client: AnyClient,
  method: string,
  requestMessage: unknown,
  metadata: Metadata,
  check: (response: any) => string | undefined,
) {
  return new Promise<void>((resolve, reject) =>
    client[method]!(requestMessage, metadata, (err, response) => {
      if (err) return reject(err);
      const wrong = check(response);
      if (wrong) reject(new Error(wrong));
      else resolve();
    }),
  );
}

const empty = new Metadata();

/** The call maker of one spec in one worker (`seed`: the worker's number). */
export function callMaker(spec: CallSpec, channels: number, seed: number): CallMaker {
  const token = tokenSource(spec.tokens, seed);
  const allow = spec.expect === 'allow';
  switch (spec.door) {
    case 'authorize':
    case 'authorize-batch':
    case 'verify': {
      const clients = grpcClients(spec, channels, 'gatehouse');
      const next = (i: number) => clients[i % clients.length]!;
      const verdict = (ok: boolean, response: unknown) =>
        ok === allow ? undefined : `expected ${spec.expect}, got ${JSON.stringify(response).slice(0, 300)}`;
      const call =
        spec.door === 'authorize'
          ? (i: number) => unary(next(i), 'Authorize', { token: token(i), action: spec.action }, empty, (r) => verdict(r.allowed, r))
          : spec.door === 'verify'
            ? (i: number) => unary(next(i), 'Verify', { token: token(i) }, empty, (r) => verdict(r.valid, r))
            : (i: number) =>
                unary(next(i), 'AuthorizeBatch', { token: token(i), actions: spec.actions }, empty, (r) =>
                  r.results.length !== spec.actions.length
                    ? `expected ${spec.actions.length} results, got ${r.results.length}`
                    : verdict(
                        r.results.every((x: { allowed: boolean }) => x.allowed),
                        r,
                      ),
                );
      return { call, close: () => clients.forEach((c) => c.close()) };
    }
    case 'envoy': {
      const clients = grpcClients(spec, channels, 'envoy');
      const check = (i: number) => ({
        attributes: {
          request: {
            http: {
              id: String(i),
              method: 'GET',
              path: spec.path,
              host: 'orders.example.test',
              scheme: 'http',
              protocol: 'HTTP/1.1',
              headers: { ':authority': 'orders.example.test', ':method': 'GET', ':path': spec.path, authorization: `Bearer ${token(i)}` },
            },
          },
        },
      });
      const call = (i: number) =>
        unary(clients[i % clients.length]!, 'Check', check(i), empty, (r) =>
          (r.status?.code === 0) === allow ? undefined : `expected ${spec.expect}, got status ${JSON.stringify(r.status)}`,
        );
      return { call, close: () => clients.forEach((c) => c.close()) };
    }
    case 'orders': {
      const clients = grpcClients(spec, channels, 'orders');
      const call = (i: number) => {
        const metadata = new Metadata();
        metadata.set('authorization', `Bearer ${token(i)}`);
        return unary(clients[i % clients.length]!, 'GetOrder', { id: 'o-1001' }, metadata, (r) =>
          r?.id === 'o-1001' ? undefined : 'no order',
        );
      };
      return { call, close: () => clients.forEach((c) => c.close()) };
    }
    case 'http': {
      const [host, port] = splitAddress(spec.address);
      const agents = Array.from({ length: channels }, () => new Agent({ keepAlive: true, maxSockets: 256 }));
      const call = (i: number) =>
        new Promise<void>((resolve, reject) => {
          const req = request(
            {
              host,
              port,
              path: '/v1/authz',
              agent: agents[i % agents.length],
              headers: { authorization: `Bearer ${token(i)}`, 'x-original-method': 'GET', 'x-original-uri': spec.uri },
            },
            (res) => {
              res.resume();
              res.on('end', () =>
                (res.statusCode === 200) === allow ? resolve() : reject(new Error(`expected ${spec.expect}, got HTTP ${res.statusCode}`)),
              );
            },
          );
          req.on('error', reject);
          req.end();
        });
      return { call, close: () => agents.forEach((a) => a.destroy()) };
    }
  }
}

export function splitAddress(address: string): [string, number] {
  const at = address.lastIndexOf(':');
  return [address.slice(0, at), Number(address.slice(at + 1))];
}
