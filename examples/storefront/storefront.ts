/**
 * The storefront: a client of orders. Its calls carry a token from the client-credentials provider (the dev
 * issuer's `/oauth2/token`, Entra-style `scope=api://orders/.default`) through gatehouse's client interceptor.
 *
 *   node --import tsx examples/storefront/storefront.ts   (after `gatehouse dev` and examples/orders/server.ts;
 *   env ORDERS_ADDRESS, TOKEN_ENDPOINT, STOREFRONT_CLIENT_SECRET or STOREFRONT_CLIENT_SECRET_FILE)
 */
import { pathToFileURL } from 'node:url';
import { credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import {
  clientCredentials,
  createClientInterceptor,
  reasonOf,
  type ClientCredentialsProvider,
  type EgressCheckOptions,
  type TokenProvider,
} from '../../src/client/index.js';
import { ordersPackage, type DeleteOrderResponse, type Order } from '../orders/orders-proto.js';

export interface StorefrontOptions {
  /** The orders service, `host:port`. */
  readonly orders: string;
  readonly token: TokenProvider;
  /** Ask gatehouse before each call leaves (refused calls never reach orders). */
  readonly egress?: EgressCheckOptions;
  /** Per call; default 3000 ms. */
  readonly deadlineMs?: number;
}

export interface Storefront {
  getOrder(id: string): Promise<Order>;
  listOrders(limit?: number): Promise<Order[]>;
  deleteOrder(id: string): Promise<DeleteOrderResponse>;
  close(): void;
}

/** The storefront's token: client credentials for the orders API, as an Entra v2 app would ask for it. */
export function storefrontToken(tokenEndpoint: string, clientSecret: string | { file: string }): ClientCredentialsProvider {
  return clientCredentials({ tokenEndpoint, clientId: 'storefront', clientSecret, scope: 'api://orders/.default' });
}

export function createStorefront(options: StorefrontOptions): Storefront {
  const interceptor = createClientInterceptor({ token: options.token, ...(options.egress ? { egress: options.egress } : {}) });
  const Orders = ordersPackage();
  const orders = new Orders(options.orders, credentials.createInsecure(), { interceptors: [interceptor] });
  const callOptions = () => ({ deadline: Date.now() + (options.deadlineMs ?? 3000) });
  return {
    getOrder: (id) =>
      new Promise((resolve, reject) =>
        orders.GetOrder({ id }, new Metadata(), callOptions(), (err, o) => (err ? reject(err) : resolve(o!))),
      ),
    listOrders: (limit = 0) =>
      new Promise((resolve, reject) => {
        const out: Order[] = [];
        const stream = orders.ListOrders({ limit }, new Metadata(), callOptions());
        stream.on('data', (o: Order) => out.push(o));
        stream.on('error', reject);
        stream.on('end', () => resolve(out));
      }),
    deleteOrder: (id) =>
      new Promise((resolve, reject) =>
        orders.DeleteOrder({ id }, new Metadata(), callOptions(), (err, r) => (err ? reject(err) : resolve(r!))),
      ),
    close: () => orders.close(),
  };
}

/** `PERMISSION_DENIED MISSING_ROLE: ...` for a refused call. */
export function describeRefusal(err: unknown): string {
  const e = err as ServiceError;
  return `${status[e.code] ?? e.code} (gatehouse-reason ${reasonOf(e) ?? '-'}): ${e.details}`;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const secretFile = process.env.STOREFRONT_CLIENT_SECRET_FILE;
  const token = storefrontToken(
    process.env.TOKEN_ENDPOINT ?? 'http://127.0.0.1:9400/oauth2/token',
    secretFile ? { file: secretFile } : (process.env.STOREFRONT_CLIENT_SECRET ?? 'storefront-secret'),
  );
  const storefront = createStorefront({ orders: process.env.ORDERS_ADDRESS ?? '127.0.0.1:50052', token });
  const show = async (what: string, call: () => Promise<unknown>) => {
    try {
      console.log(`${what}: ${JSON.stringify(await call())}`);
    } catch (err) {
      console.log(`${what}: refused, ${describeRefusal(err)}`);
    }
  };
  await show('GetOrder o-1001', () => storefront.getOrder('o-1001'));
  await show('ListOrders', () => storefront.listOrders());
  await show('DeleteOrder o-1001', () => storefront.deleteOrder('o-1001'));
  storefront.close();
}
