/**
 * The orders service's GetOrder, unprotected, or behind gatehouse's server interceptor when given gatehouse's address
 * (argv[2]). The client library comes from runtime.ts: the built package by default, as a service would install it.
 * Prints `PORT <n>`.
 */
import { Server, ServerCredentials, type ServerInterceptor, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { ordersPackage } from '../../../examples/orders/orders-proto.js';
import type * as ClientModule from '../../../src/client/index.js';
import { gatehouseModule } from '../runtime.js';

const { createAuthClient, createServerInterceptor, principalOf } = (await import(gatehouseModule('client/index'))) as typeof ClientModule;

const gatehouse = process.argv[2];
const authClient = gatehouse ? createAuthClient({ address: gatehouse }) : undefined;
const interceptors: ServerInterceptor[] = authClient ? [createServerInterceptor({ authClient })] : [];
const handlers: UntypedServiceImplementation = {
  GetOrder: (call: any, callback: any) =>
    callback(null, { id: call.request.id, item: 'espresso beans 1 kg', quantity: 2, servedTo: principalOf(call)?.subject ?? '' }),
};
const server = new Server({ interceptors });
server.addService(ordersPackage().service, handlers);
server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, port) => {
  if (err) throw err;
  console.log(`PORT ${port}`);
});
process.once('SIGTERM', () =>
  server.tryShutdown(() => {
    authClient?.close();
    process.exit(0);
  }),
);
