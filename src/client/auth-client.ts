/**
 * AuthClient: a typed promise API over gatehouse.v1.AuthService. Every call carries a deadline; decisions are
 * kept in a bounded local cache for as long as gatehouse's `cache_for` allows, and identical concurrent
 * questions share one round trip. A decision (allowed or denied) is a value; only a call that could not be
 * answered throws, with a coded error.
 */
import {
  credentials as grpcCredentials,
  makeClientConstructor,
  Metadata,
  status,
  type ChannelCredentials,
  type ChannelOptions,
  type ServiceError,
} from '@grpc/grpc-js';
import type { AuthorizeRequest, AuthorizeResponse, VerifyRequest, VerifyResponse } from '../contract/messages.js';
import { authServiceDefinition } from './auth-service-definition.js';
import { decisionFromWire, verifyResultFromWire, type Decision, type VerifyResult } from './decision.js';
import { GatehouseClientError, optionsError } from './errors.js';
import { cacheKey, LocalDecisionCache } from './local-cache.js';
import { stderrLogger, type ClientLogger } from './logger.js';
import { createClientMetrics, type ClientMetrics, type Registry } from './metrics.js';

export interface AuthClientOptions {
  /** gatehouse's gRPC address, `host:port` (any grpc-js target). */
  readonly address: string;
  /** Required unless `address` is loopback or a unix socket: tokens must not cross a network in plaintext by default. */
  readonly credentials?: ChannelCredentials;
  /** Deadline of every call to gatehouse; default 1000 ms. Past it, the call fails as unavailable. */
  readonly deadlineMs?: number;
  /** The local decision cache; default `{ maxEntries: 10000 }`; `{ maxEntries: 0 }` or `false` disables it. */
  readonly cache?: { readonly maxEntries: number } | false;
  /** Registers the `gatehouse_client_*` metrics into this prom-client registry; none without it. */
  readonly registry?: Registry;
  /** Where the interceptors warn (failOpen); default JSON lines on stderr. */
  readonly logger?: ClientLogger;
  /** Passed to the grpc-js channel (merged over fast-reconnect defaults). */
  readonly channelOptions?: ChannelOptions;
  /** Milliseconds since the epoch, for the cache; tests pass a fake one. */
  readonly clock?: () => number;
}

export interface CallOptions {
  /** Sent as `x-request-id`, so gatehouse's audit line joins this service's logs. */
  readonly requestId?: string;
}

export interface AuthClient {
  /** Who is this token? Token problems are a value (`valid: false`), never an exception. */
  verify(token: string, options?: CallOptions): Promise<VerifyResult>;
  /** May this token perform `action` (a gRPC method path such as `/orders.v1.Orders/GetOrder`, or `resource:verb`)? */
  authorize(token: string, action: string, attributes?: Readonly<Record<string, string>>, options?: CallOptions): Promise<Decision>;
  /** Forgets every cached decision (say, after a policy change you know of). */
  clearCache(): void;
  readonly logger: ClientLogger;
  /** The interceptors count fail-closed refusals and fail-open let-throughs here. */
  readonly metrics: ClientMetrics;
  /** Closes the channel; later calls fail with ERR_GATEHOUSE_UNAVAILABLE. */
  close(): void;
}

type Callback<Res> = (err: ServiceError | null, response?: Res) => void;
interface RawAuthService {
  Verify(request: VerifyRequest, metadata: Metadata, options: { deadline: number }, callback: Callback<VerifyResponse>): void;
  Authorize(request: AuthorizeRequest, metadata: Metadata, options: { deadline: number }, callback: Callback<AuthorizeResponse>): void;
  close(): void;
}

/** gatehouse is on the path of every call: reconnect quickly once it is back. */
const CHANNEL_DEFAULTS: ChannelOptions = { 'grpc.initial_reconnect_backoff_ms': 100, 'grpc.max_reconnect_backoff_ms': 2000 };
const UNAVAILABLE_CODES = new Set<number>([status.UNAVAILABLE, status.DEADLINE_EXCEEDED, status.CANCELLED]);

export function createAuthClient(options: AuthClientOptions): AuthClient {
  const { deadlineMs = 1000, clock = Date.now } = options;
  const channelCredentials = checkOptions(options);
  const maxEntries = options.cache === false ? 0 : (options.cache?.maxEntries ?? 10_000);
  const cache = new LocalDecisionCache(maxEntries, clock);
  const metrics = createClientMetrics(options.registry);
  const AuthService = makeClientConstructor(authServiceDefinition(), 'AuthService');
  const raw = new AuthService(options.address, channelCredentials, {
    ...CHANNEL_DEFAULTS,
    ...options.channelOptions,
  }) as unknown as RawAuthService;
  const inFlight = new Map<string, Promise<Decision>>();

  function call<Req, Res>(method: 'Authorize' | 'Verify', request: Req, callOptions: CallOptions | undefined): Promise<Res> {
    const metadata = new Metadata();
    if (callOptions?.requestId) metadata.set('x-request-id', callOptions.requestId);
    const started = performance.now();
    return new Promise<Res>((resolve, reject) => {
      const done: Callback<Res> = (err, response) => {
        metrics.call(method, err ? (status[err.code] ?? String(err.code)) : 'OK', (performance.now() - started) / 1000);
        if (err) reject(callError(method, err));
        else if (response === undefined) reject(new GatehouseClientError('ERR_GATEHOUSE_CALL_FAILED', `${method}: empty response`));
        else resolve(response);
      };
      try {
        (raw[method] as (r: Req, m: Metadata, o: { deadline: number }, cb: Callback<Res>) => void)(
          request,
          metadata,
          { deadline: Date.now() + deadlineMs },
          done,
        );
      } catch (err) {
        // grpc-js throws synchronously once the channel is closed.
        reject(new GatehouseClientError('ERR_GATEHOUSE_UNAVAILABLE', `${method}: the client is closed`, { cause: err }));
      }
    });
  }

  async function ask(key: string, request: AuthorizeRequest, callOptions: CallOptions | undefined): Promise<Decision> {
    try {
      const decision = decisionFromWire(await call<AuthorizeRequest, AuthorizeResponse>('Authorize', request, callOptions));
      cache.set(key, decision);
      return decision;
    } finally {
      inFlight.delete(key);
    }
  }

  return {
    logger: options.logger ?? stderrLogger,
    metrics,
    async verify(token, callOptions) {
      return verifyResultFromWire(await call<VerifyRequest, VerifyResponse>('Verify', { token }, callOptions));
    },
    async authorize(token, action, attributes, callOptions) {
      const key = cacheKey(token, action, attributes);
      let decision = cache.get(key);
      if (cache.enabled) metrics.cache(decision ? 'hit' : 'miss');
      if (!decision) {
        let pending = inFlight.get(key);
        if (!pending) {
          pending = ask(key, { token, action, attributes: { ...attributes } }, callOptions);
          inFlight.set(key, pending);
        }
        decision = await pending;
      }
      if (!decision.allowed) metrics.denial(decision.reason);
      return decision;
    },
    clearCache: () => cache.clear(),
    close: () => raw.close(),
  };
}

function callError(method: string, err: ServiceError): GatehouseClientError {
  const name = status[err.code] ?? String(err.code);
  if (UNAVAILABLE_CODES.has(err.code)) {
    return new GatehouseClientError('ERR_GATEHOUSE_UNAVAILABLE', `${method}: gatehouse did not answer (${name}: ${err.details})`, {
      cause: err,
      grpcCode: err.code,
    });
  }
  return new GatehouseClientError('ERR_GATEHOUSE_CALL_FAILED', `${method}: gatehouse refused the call (${name}: ${err.details})`, {
    cause: err,
    grpcCode: err.code,
  });
}

function checkOptions(options: AuthClientOptions): ChannelCredentials {
  const where = 'createAuthClient';
  if (typeof options.address !== 'string' || options.address.trim() === '') throw optionsError(where, 'address is required (host:port)');
  const { deadlineMs } = options;
  if (deadlineMs !== undefined && !(Number.isFinite(deadlineMs) && deadlineMs > 0)) {
    throw optionsError(where, `deadlineMs must be a positive number of milliseconds, got ${String(deadlineMs)}`);
  }
  const maxEntries = options.cache === false ? 0 : options.cache?.maxEntries;
  if (maxEntries !== undefined && !(Number.isInteger(maxEntries) && maxEntries >= 0)) {
    throw optionsError(where, `cache.maxEntries must be an integer >= 0 (0 disables the cache), got ${String(maxEntries)}`);
  }
  if (options.credentials) return options.credentials;
  if (!isLocalAddress(options.address)) {
    throw optionsError(
      where,
      `credentials is required for the non-loopback address ${options.address}: pass credentials.createSsl(...), ` +
        'or credentials.createInsecure() explicitly if a service mesh encrypts the hop',
    );
  }
  return grpcCredentials.createInsecure();
}

function isLocalAddress(address: string): boolean {
  if (address.startsWith('unix:')) return true;
  const target = address.replace(/^(dns|ipv4|ipv6):(\/\/[^/]*\/)?/, '');
  const host = target.slice(0, target.lastIndexOf(':') > 0 ? target.lastIndexOf(':') : undefined).replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}
