/**
 * Starts gatehouse for a test: real gRPC and HTTP listeners on 127.0.0.1:0, a logger writing JSON lines to
 * memory (so tests parse what was actually written), and a typed grpc-js client for gatehouse.v1.AuthService
 * whose promise helpers also return the response metadata.
 */
import { Writable } from 'node:stream';
import {
  credentials,
  makeClientConstructor,
  Metadata,
  type CallOptions,
  type Client,
  type ClientUnaryCall,
  type ServiceDefinition,
  type ServiceError,
} from '@grpc/grpc-js';
import type { LevelWithSilent } from 'pino';
import { startGatehouse, type Gatehouse } from '../../src/app.js';
import { validateConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import type {
  AuthorizeBatchRequest,
  AuthorizeBatchResponse,
  AuthorizeRequest,
  AuthorizeResponse,
  VerifyRequest,
  VerifyResponse,
} from '../../src/contract/messages.js';
import { AUTH_SERVICE_NAME, loadGatehouseProto } from '../../src/contract/proto.js';
import { createLogger } from '../../src/telemetry/logger.js';
import type { Clock } from '../../src/verification/clock.js';
import type { Fetch } from '../../src/verification/fetch-json.js';

/** Every JSON line the logger wrote, in order. */
export class LogLines {
  readonly raw: string[] = [];
  #partial = '';

  /** The Writable handed to pino. */
  readonly stream = new Writable({
    decodeStrings: false,
    write: (chunk: string | Buffer, _encoding, done) => {
      const text = this.#partial + chunk.toString();
      const parts = text.split('\n');
      this.#partial = parts.pop() ?? '';
      this.raw.push(...parts.filter((line) => line !== ''));
      done();
    },
  });

  /** Every line, parsed. */
  parsed(): Record<string, unknown>[] {
    return this.raw.map((line) => JSON.parse(line) as Record<string, unknown>);
  }

  /** The audit lines (logger name "audit"), optionally only those of one request id. */
  audit(requestId?: string): AuditLine[] {
    return this.parsed().filter(
      (line): line is AuditLine & Record<string, unknown> =>
        line.name === 'audit' && (requestId === undefined || line.request_id === requestId),
    );
  }
}

/** One audit line as the test reads it. */
export interface AuditLine {
  name: 'audit';
  request_id: string;
  door: 'grpc' | 'envoy' | 'http';
  issuer: string;
  tenant: string;
  subject: string;
  object_id: string;
  client_id: string;
  action: string;
  allowed: boolean;
  reason: string;
  rule: string;
  cached: boolean;
  latency_ms: number;
}

/** A response with the metadata (headers) the server sent. */
export interface Reply<T> {
  response: T;
  metadata: Metadata;
}

export interface CallSettings {
  /** Sent as `x-request-id`. */
  requestId?: string;
  /** Extra metadata to send. */
  metadata?: Record<string, string>;
  /** Milliseconds; default 10 s. */
  deadlineMs?: number;
  /** The request's `attributes` (Authorize, AuthorizeBatch); default none. */
  attributes?: Record<string, string>;
  /** Called when the server's response headers arrive (the call has reached a handler). */
  onHeaders?: (metadata: Metadata) => void;
}

type UnaryMethod<Req, Res> = (
  request: Req,
  metadata: Metadata,
  options: CallOptions,
  callback: (err: ServiceError | null, response?: Res) => void,
) => ClientUnaryCall;

interface RawAuthClient extends Client {
  Verify: UnaryMethod<VerifyRequest, VerifyResponse>;
  Authorize: UnaryMethod<AuthorizeRequest, AuthorizeResponse>;
  AuthorizeBatch: UnaryMethod<AuthorizeBatchRequest, AuthorizeBatchResponse>;
}

/** A typed client for gatehouse.v1.AuthService; rejects with the grpc-js ServiceError on an RPC error. */
export class AuthTestClient {
  readonly raw: RawAuthClient;

  constructor(address: string) {
    const definition = loadGatehouseProto()[AUTH_SERVICE_NAME] as ServiceDefinition;
    const Ctor = makeClientConstructor(definition, AUTH_SERVICE_NAME) as unknown as new (
      address: string,
      creds: ReturnType<typeof credentials.createInsecure>,
    ) => RawAuthClient;
    this.raw = new Ctor(address, credentials.createInsecure());
  }

  verify(token: string, settings?: CallSettings): Promise<Reply<VerifyResponse>> {
    return this.#call(this.raw.Verify, { token }, settings);
  }

  authorize(token: string, action: string, settings?: CallSettings): Promise<Reply<AuthorizeResponse>> {
    return this.#call(this.raw.Authorize, { token, action, attributes: settings?.attributes ?? {} }, settings);
  }

  authorizeBatch(token: string, actions: string[], settings?: CallSettings): Promise<Reply<AuthorizeBatchResponse>> {
    return this.#call(this.raw.AuthorizeBatch, { token, actions, attributes: settings?.attributes ?? {} }, settings);
  }

  close(): void {
    this.raw.close();
  }

  #call<Req, Res>(method: UnaryMethod<Req, Res>, request: Req, settings: CallSettings = {}): Promise<Reply<Res>> {
    const metadata = new Metadata();
    if (settings.requestId !== undefined) metadata.set('x-request-id', settings.requestId);
    for (const [key, value] of Object.entries(settings.metadata ?? {})) metadata.set(key, value);
    const deadline = Date.now() + (settings.deadlineMs ?? 10_000);
    return new Promise((resolve, reject) => {
      let headers = new Metadata();
      const call = method.call(this.raw, request, metadata, { deadline }, (err, response) => {
        if (err) reject(err);
        else resolve({ response: response as Res, metadata: headers });
      });
      call.on('metadata', (received: Metadata) => {
        headers = received;
        settings.onHeaders?.(received);
      });
    });
  }
}

export interface TestGatehouseOptions {
  /** Default `debug`, so every line gatehouse may write is searched by the tests. */
  level?: LevelWithSilent;
  clock?: Clock;
  fetch?: Fetch;
  /** Wait for every issuer's first key fetch before returning; default true. */
  waitForKeys?: boolean;
}

export interface TestGatehouse {
  gatehouse: Gatehouse;
  client: AuthTestClient;
  logs: LogLines;
  /** `127.0.0.1:PORT` of the gRPC listener. */
  address: string;
  /** gatehouse.shutdown(), once: later calls return the same promise. */
  shutdown(): Promise<void>;
  /** Shuts gatehouse down (if not already) and closes the client. */
  close(): Promise<void>;
}

/**
 * Validates `raw` (listen addresses forced to 127.0.0.1:0) and starts gatehouse on it, waiting for the first
 * key fetch of every issuer.
 */
export async function startTestGatehouse(raw: Record<string, unknown>, options: TestGatehouseOptions = {}): Promise<TestGatehouse> {
  const config = testConfig(raw);
  const logs = new LogLines();
  const logger = createLogger({ level: options.level ?? 'debug', destination: logs.stream });
  const gatehouse = await startGatehouse(config, {
    logger,
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  if (options.waitForKeys !== false) await gatehouse.prefetched;
  const address = `127.0.0.1:${gatehouse.grpcPort}`;
  const client = new AuthTestClient(address);
  let stopping: Promise<void> | undefined;
  const shutdown = () => (stopping ??= gatehouse.shutdown());
  return {
    gatehouse,
    client,
    logs,
    address,
    shutdown,
    async close() {
      client.close();
      await shutdown();
    },
  };
}

/** `raw` validated as gatehouse would, with both listeners on 127.0.0.1:0 (the server block may add to it). */
export function testConfig(raw: Record<string, unknown>): Config {
  const server = { ...(raw.server as Record<string, unknown> | undefined), grpc: '127.0.0.1:0', http: '127.0.0.1:0' };
  return validateConfig({ ...raw, server }, 'test config');
}

/** The three dot-separated segments of a JWT. */
export function segmentsOf(token: string): string[] {
  return token.split('.');
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `check` every 10 ms until it holds, failing after about 3 s with `what` in the message. */
export async function until(check: () => Promise<boolean> | boolean, what: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (await check()) return;
    await sleep(10);
  }
  throw new Error(`timed out waiting for ${what}`);
}
