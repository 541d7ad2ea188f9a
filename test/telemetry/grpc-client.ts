/**
 * A bare grpc-js client of gatehouse for the telemetry tests (the public client library is tested on its own):
 * AuthService calls, the health check, and a raw call to any path.
 */
import {
  credentials,
  loadPackageDefinition,
  type CallOptions,
  type ClientReadableStream,
  makeGenericClientConstructor,
  Metadata,
  type Client,
  type ServiceError,
} from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import type { AuthorizeResponse, VerifyResponse } from '../../src/contract/messages.js';
import { loadGatehouseProto } from '../../src/contract/proto.js';

type Callback<T> = (err: ServiceError | null, value?: T) => void;
type Unary<Req, Res> = (request: Req, metadata: Metadata, callback: Callback<Res>) => void;

interface AuthServiceClient extends Client {
  Authorize: Unary<{ token: string; action: string }, AuthorizeResponse> &
    ((request: { token: string; action: string }, metadata: Metadata, options: CallOptions, callback: Callback<AuthorizeResponse>) => void);
  Verify: Unary<{ token: string }, VerifyResponse>;
}

export interface TestClient {
  authorize(token: string, action: string, requestId?: string): Promise<AuthorizeResponse>;
  /** An Authorize call with a deadline (epoch ms); resolves to its numeric status code. */
  verify(token: string): Promise<VerifyResponse>;
  /** The serving status of `service` ('' = the whole server). */
  health(service?: string): Promise<string>;
  /** Streams every serving status of `service` to `onStatus`; returns a function that cancels the stream. */
  watchHealth(service: string, onStatus: (status: string) => void): () => void;
  /** A unary call to any path with an empty message; resolves to its numeric status code. */
  rawCall(path: string): Promise<number>;
  close(): void;
}

function promised<Req, Res>(client: Client, fn: Unary<Req, Res>, request: Req, metadata = new Metadata()): Promise<Res> {
  return new Promise((resolve, reject) => fn.call(client, request, metadata, (err, value) => (err ? reject(err) : resolve(value!))));
}

export function connect(port: number): TestClient {
  const address = `127.0.0.1:${port}`;
  const pkg = loadPackageDefinition(loadGatehouseProto()) as unknown as {
    gatehouse: { v1: { AuthService: new (address: string, creds: ReturnType<typeof credentials.createInsecure>) => AuthServiceClient } };
  };
  const auth = new pkg.gatehouse.v1.AuthService(address, credentials.createInsecure());
  const Health = makeGenericClientConstructor(healthService, 'Health');
  const health = new Health(address, credentials.createInsecure()) as unknown as Client & {
    Check: Unary<{ service: string }, { status: string }>;
    Watch: (request: { service: string }) => ClientReadableStream<{ status: string }>;
  };

  return {
    authorize(token, action, requestId) {
      const metadata = new Metadata();
      if (requestId) metadata.set('x-request-id', requestId);
      return promised(auth, auth.Authorize, { token, action }, metadata);
    },
    verify: (token) => promised(auth, auth.Verify, { token }),
    health: async (service = '') => (await promised(health, health.Check, { service })).status,
    watchHealth(service, onStatus) {
      const stream = health.Watch({ service });
      stream.on('data', (message: { status: string }) => onStatus(message.status));
      stream.on('error', () => {}); // CANCELLED when the test cancels it
      return () => stream.cancel();
    },
    rawCall: (path) =>
      new Promise((resolve) =>
        auth.makeUnaryRequest(
          path,
          () => Buffer.alloc(0),
          (b: Buffer) => b,
          {},
          (err) => resolve(err ? err.code : 0),
        ),
      ),
    close() {
      auth.close();
      health.close();
    },
  };
}
