/** orders.v1 loaded with proto-loader: the service definition for the server, a client constructor, message types. */
import { fileURLToPath } from 'node:url';
import * as protoLoader from '@grpc/proto-loader';
import {
  loadPackageDefinition,
  type CallOptions,
  type ChannelCredentials,
  type ClientOptions,
  type ClientReadableStream,
  type Metadata,
  type ServiceDefinition,
  type ServiceError,
} from '@grpc/grpc-js';

export interface Order {
  id: string;
  item: string;
  quantity: number;
  servedTo: string;
}
export interface DeleteOrderResponse {
  deleted: boolean;
  deletedBy: string;
}

type Callback<T> = (err: ServiceError | null, value?: T) => void;

/** The generated client's shape (what `proto-loader-gen-types` would write). */
export interface OrdersClient {
  GetOrder(request: { id: string }, metadata: Metadata, options: CallOptions, callback: Callback<Order>): void;
  ListOrders(request: { limit: number }, metadata: Metadata, options: CallOptions): ClientReadableStream<Order>;
  DeleteOrder(request: { id: string }, metadata: Metadata, options: CallOptions, callback: Callback<DeleteOrderResponse>): void;
  close(): void;
}

type OrdersClientConstructor = (new (address: string, credentials: ChannelCredentials, options?: ClientOptions) => OrdersClient) & {
  service: ServiceDefinition;
};

const PROTO = fileURLToPath(new URL('./orders.proto', import.meta.url));

let loaded: OrdersClientConstructor | undefined;

export function ordersPackage(): OrdersClientConstructor {
  if (!loaded) {
    const definition = protoLoader.loadSync(PROTO, { keepCase: false, longs: Number, enums: String, defaults: true });
    const grpcObject = loadPackageDefinition(definition) as unknown as { orders: { v1: { Orders: OrdersClientConstructor } } };
    loaded = grpcObject.orders.v1.Orders;
  }
  return loaded;
}
