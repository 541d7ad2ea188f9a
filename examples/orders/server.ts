/**
 * The orders service: a gRPC server protected by gatehouse's server interceptor. Every call is checked
 * against gatehouse before its handler runs; handlers read who is calling with `principalOf(call)`.
 *
 *   node --import tsx examples/orders/server.ts        (after `gatehouse dev`; env GATEHOUSE_ADDRESS, ORDERS_ADDRESS)
 */
import { pathToFileURL } from 'node:url';
import {
  Server,
  ServerCredentials,
  status,
  type handleServerStreamingCall,
  type handleUnaryCall,
  type ServerInterceptor,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { createAuthClient, createServerInterceptor, principalOf, type AuthClient, type Registry } from '../../src/client/index.js';
import { ordersPackage, type DeleteOrderResponse, type Order } from './orders-proto.js';

const ORDERS: ReadonlyArray<Omit<Order, 'servedTo'>> = [
  { id: 'o-1001', item: 'espresso beans 1 kg', quantity: 2 },
  { id: 'o-1002', item: 'burr grinder', quantity: 1 },
  { id: 'o-1003', item: 'milk jug', quantity: 3 },
];

export interface OrdersOptions {
  /** Where orders listens, `host:port` (port 0: any free one). */
  readonly listen: string;
  /** gatehouse's gRPC address. Absent: no protection at all (the benchmark's baseline). */
  readonly gatehouse?: string;
  /** Registry for the `gatehouse_client_*` metrics. */
  readonly registry?: Registry;
}

export interface RunningOrders {
  readonly port: number;
  readonly authClient: AuthClient | undefined;
  close(): Promise<void>;
}

export function ordersHandlers(): UntypedServiceImplementation {
  const whoAsks = (call: Parameters<typeof principalOf>[0]) => principalOf(call)?.subject ?? '(unauthenticated)';
  const getOrder: handleUnaryCall<{ id: string }, Order> = (call, callback) => {
    const order = ORDERS.find((o) => o.id === call.request.id);
    if (!order) return callback({ code: status.NOT_FOUND, details: `no order ${call.request.id}` });
    callback(null, { ...order, servedTo: whoAsks(call) });
  };
  const listOrders: handleServerStreamingCall<{ limit: number }, Order> = (call) => {
    for (const order of ORDERS.slice(0, call.request.limit || ORDERS.length)) call.write({ ...order, servedTo: whoAsks(call) });
    call.end();
  };
  // Only reached when gatehouse's rules allowed it (Orders.Admin in the dev config).
  const deleteOrder: handleUnaryCall<{ id: string }, DeleteOrderResponse> = (call, callback) => {
    callback(null, { deleted: ORDERS.some((o) => o.id === call.request.id), deletedBy: whoAsks(call) });
  };
  return { GetOrder: getOrder, ListOrders: listOrders, DeleteOrder: deleteOrder };
}

export async function startOrders(options: OrdersOptions): Promise<RunningOrders> {
  const authClient = options.gatehouse ? createAuthClient({ address: options.gatehouse, registry: options.registry }) : undefined;
  const interceptors: ServerInterceptor[] = authClient ? [createServerInterceptor({ authClient })] : [];
  const server = new Server({ interceptors });
  server.addService(ordersPackage().service, ordersHandlers());
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(options.listen, ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return {
    port,
    authClient,
    close: () =>
      new Promise<void>((resolve) => {
        server.tryShutdown(() => {
          authClient?.close();
          resolve();
        });
      }),
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const gatehouse = process.env.GATEHOUSE_ADDRESS ?? '127.0.0.1:50051';
  const listen = process.env.ORDERS_ADDRESS ?? '127.0.0.1:50052';
  const orders = await startOrders({ listen, gatehouse });
  console.log(`orders.v1.Orders listening on ${listen.replace(/:\d+$/, `:${orders.port}`)}, protected by gatehouse at ${gatehouse}`);
  const stop = () => void orders.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
