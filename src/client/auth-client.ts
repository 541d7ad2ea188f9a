/**
 * AuthClient: a typed promise API over gatehouse.v1.AuthService. Every call carries a deadline; decisions are
 * kept in a bounded local cache for as long as gatehouse's `cache_for` allows, and identical concurrent
 * questions share one round trip. A decision (allowed or denied) is a value; only a call that could not be
 * answered throws, with a coded error that says whether gatehouse was provably never asked
 * (ERR_GATEHOUSE_UNREACHABLE, the one failOpen acts on), timed out, or failed otherwise.
 */
import {
  credentials as grpcCredentials,
  makeClientConstructor,
  Metadata,
  status,
  type ChannelCredentials,
  type ChannelInterface,
  type ChannelOptions,
  type ServiceError,
} from '@grpc/grpc-js';
import type { AuthorizeRequest, AuthorizeResponse, VerifyRequest, VerifyResponse } from '../contract/messages.js';
import { authServiceDefinition } from './auth-service-definition.js';
import { channelOptions, type Keepalive, type LoadBalancing, type RetryPolicy } from './channel-config.js';
import { decisionFromWire, verifyResultFromWire, type Decision, type VerifyResult } from './decision.js';
import { watchConnections } from './connection-watch.js';
import { GatehouseClientError, optionsError } from './errors.js';
import { LocalDecisionCache, questionText, TokenHasher, type CacheSize } from './local-cache.js';
import { stderrLogger, type ClientLogger } from './logger.js';
import { isLoopbackTarget } from './loopback-target.js';
import { createClientMetrics, type ClientMetrics, type Registry } from './metrics.js';
import { ResendBudget, withResends } from './resend.js';

export interface AuthClientOptions {
  /**
   * gatehouse's gRPC address: any grpc-js target, `host:port`, `dns:///gatehouse-headless.auth.svc:50051` (a headless
   * Service: every ready pod), `ipv4:10.0.0.1:50051,10.0.0.2:50051`.
   */
  readonly address: string;
  /**
   * Required unless every address of `address` is loopback, or it is a unix socket: tokens must not cross a network
   * in plaintext by default.
   */
  readonly credentials?: ChannelCredentials;
  /**
   * Deadline of every call to gatehouse, retries and re-sends included; default 1000 ms. Past it, the call fails
   * with ERR_GATEHOUSE_TIMEOUT.
   */
  readonly deadlineMs?: number;
  /** How calls spread over the addresses `address` resolves to; default `round_robin` (every replica gets calls). */
  readonly loadBalancing?: LoadBalancing;
  /**
   * The gRPC retry policy of Verify, Authorize and AuthorizeBatch (they only read, so asking twice is safe); default
   * 3 attempts, 50 ms backoff doubling up to 500 ms, on UNAVAILABLE and RESOURCE_EXHAUSTED (a replica stopping or
   * shedding load), with gRPC retry throttling. Fields given replace the defaults; `false`: no retries.
   */
  readonly retry?: Partial<RetryPolicy> | false;
  /**
   * Re-sends of a Verify or Authorize whose attempt died with UNAVAILABLE and no answer (in flight on a replica that
   * was killed), on another replica, within the deadline; default 2, 0 turns them off. Never after an answer.
   */
  readonly resends?: number;
  /** Pings on every connection; default every 5000 ms, dropped after 2000 ms without an answer. `false`: none. */
  readonly keepalive?: Partial<Keepalive> | false;
  /**
   * The local decision cache, bounded by decisions and by estimated bytes (a decision's principal carries
   * every claim of its token); default `{ maxEntries: 10000, maxBytes: 32 MiB }`. A 0 or `false` disables it.
   */
  readonly cache?: { readonly maxEntries?: number; readonly maxBytes?: number } | false;
  /** Registers the `gatehouse_client_*` metrics into this prom-client registry; none without it. */
  readonly registry?: Registry;
  /** Where the interceptors warn (failOpen); default JSON lines on stderr. */
  readonly logger?: ClientLogger;
  /**
   * Passed to the grpc-js channel, over everything above (a `grpc.service_config` here replaces the balancing and
   * retry policy whole).
   */
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
  /**
   * The decision the local cache holds for this question, at once and without asking gatehouse; undefined when it
   * holds none (or the client is closed). A hit counts as `authorize` counts one. The server interceptor asks here
   * first, so a warm call costs no promise, but only of a client `createAuthClient` made: an object wrapping one
   * (`{ ...client, authorize: stricter }`) is asked through its `authorize` every call. Optional, so an AuthClient of
   * your own need not have it.
   */
  cached?(token: string, action: string, attributes?: Readonly<Record<string, string>>): Decision | undefined;
  /** Forgets every cached decision (say, after a policy change you know of). */
  clearCache(): void;
  /** What the local cache holds now: decisions, tokens, and the byte estimate `cache.maxBytes` bounds. */
  cacheSize(): CacheSize;
  readonly logger: ClientLogger;
  /** The interceptors count fail-closed refusals and fail-open let-throughs here. */
  readonly metrics: ClientMetrics;
  /** Closes the channel and empties the cache; later calls fail with ERR_CLIENT_CLOSED (never failOpen). */
  close(): void;
}

type Callback<Res> = (err: ServiceError | null, response?: Res) => void;
interface RawAuthService {
  Verify(request: VerifyRequest, metadata: Metadata, options: { deadline: number }, callback: Callback<VerifyResponse>): void;
  Authorize(request: AuthorizeRequest, metadata: Metadata, options: { deadline: number }, callback: Callback<AuthorizeResponse>): void;
  getChannel(): ChannelInterface;
  close(): void;
}

const DEFAULT_RESENDS = 2;
const DEFAULT_CACHE = { maxEntries: 10_000, maxBytes: 32 * 1024 * 1024 } as const;
const DISABLED = { maxEntries: 0, maxBytes: 0 } as const;

/** The clients createAuthClient made, not copies or wrappers: only their `cached` answers exactly as `authorize` would. */
const madeHere = new WeakSet<AuthClient>();
export function isLibraryClient(client: AuthClient): boolean {
  return madeHere.has(client);
}

export function createAuthClient(options: AuthClientOptions): AuthClient {
  const { deadlineMs = 1000, clock = Date.now, resends = DEFAULT_RESENDS } = options;
  const channelCredentials = checkOptions(options);
  // Credentials omitted (a loopback target): plaintext must stay on this host, so no proxy from the environment.
  const channel = channelOptions(options, { ...(options.credentials ? {} : { 'grpc.enable_http_proxy': 0 }), ...options.channelOptions });
  const { maxEntries = DEFAULT_CACHE.maxEntries, maxBytes = DEFAULT_CACHE.maxBytes } =
    options.cache === false ? DISABLED : (options.cache ?? {});
  const cache = new LocalDecisionCache({ maxEntries, maxBytes }, clock);
  const metrics = createClientMetrics(options.registry);
  const AuthService = makeClientConstructor(authServiceDefinition(), 'AuthService');
  const raw = new AuthService(options.address, channelCredentials, channel) as unknown as RawAuthService;
  const connections = watchConnections(raw.getChannel());
  const inFlight = new Map<string, Promise<Decision>>();
  const budget = new ResendBudget();
  const resendPolicies = {
    Authorize: { maxResends: resends, budget, onResend: () => metrics.resend('Authorize') },
    Verify: { maxResends: resends, budget, onResend: () => metrics.resend('Verify') },
  };
  let closed = false;
  const tokens = new TokenHasher();

  /** One attempt: the answer, or the ServiceError it failed with (or a coded error if it could not be sent). */
  function attempt<Req, Res>(method: 'Authorize' | 'Verify', request: Req, metadata: Metadata, deadline: number): Promise<Res> {
    return new Promise<Res>((resolve, reject) => {
      if (closed) {
        reject(closedError(method));
        return;
      }
      try {
        (raw[method] as (r: Req, m: Metadata, o: { deadline: number }, cb: Callback<Res>) => void)(
          request,
          metadata,
          { deadline },
          (err, response) => (err ? reject(err) : resolve(response as Res)),
        );
      } catch (err) {
        // grpc-js throws synchronously once the channel is closed; anything else is ours, never "unreachable".
        reject(closed ? closedError(method) : new GatehouseClientError('ERR_GATEHOUSE_CALL_FAILED', `${method}: not sent`, { cause: err }));
      }
    });
  }

  async function call<Req, Res>(method: 'Authorize' | 'Verify', request: Req, callOptions: CallOptions | undefined): Promise<Res> {
    if (closed) throw closedError(method);
    const metadata = new Metadata();
    if (callOptions?.requestId) metadata.set('x-request-id', callOptions.requestId);
    const started = performance.now();
    const deadline = Date.now() + deadlineMs;
    // Across every attempt: "never reached" must hold for all of them.
    const neverConnected = connections.beforeCall();
    let response: Res | undefined;
    try {
      const send = () => attempt<Req, Res>(method, request, metadata.clone(), deadline);
      response = await withResends(send, deadline, resendPolicies[method]);
    } catch (err) {
      if (err instanceof GatehouseClientError) throw err;
      const failed = err as ServiceError;
      metrics.call(method, status[failed.code] ?? String(failed.code), (performance.now() - started) / 1000);
      throw callError(method, failed, neverConnected);
    }
    metrics.call(method, 'OK', (performance.now() - started) / 1000);
    if (response === undefined) throw new GatehouseClientError('ERR_GATEHOUSE_CALL_FAILED', `${method}: empty response`);
    return response;
  }

  async function ask(
    hash: string,
    question: string,
    key: string,
    request: AuthorizeRequest,
    callOptions: CallOptions | undefined,
  ): Promise<Decision> {
    try {
      const decision = decisionFromWire(await call<AuthorizeRequest, AuthorizeResponse>('Authorize', request, callOptions));
      return closed ? decision : cache.set(hash, question, decision, request.token.length);
    } finally {
      inFlight.delete(key);
    }
  }

  const client: AuthClient = {
    logger: options.logger ?? stderrLogger,
    metrics,
    async verify(token, callOptions) {
      return verifyResultFromWire(await call<VerifyRequest, VerifyResponse>('Verify', { token }, callOptions));
    },
    cached(token, action, attributes) {
      if (closed || !cache.enabled) return undefined;
      const decision = cache.get(tokens.hash(token), questionText(action, attributes));
      if (!decision) return undefined;
      metrics.cache('hit');
      if (!decision.allowed) metrics.denial(decision.reason);
      return decision;
    },
    async authorize(token, action, attributes, callOptions) {
      // Closed means closed: not even a cached allow (a shutdown hook must not leave a half-open service).
      if (closed) throw closedError('Authorize');
      const hash = tokens.hash(token);
      const question = questionText(action, attributes);
      let decision = cache.get(hash, question);
      if (cache.enabled) metrics.cache(decision ? 'hit' : 'miss');
      if (!decision) {
        // The hash is fixed-length and has no "\n": no two questions share a key.
        const key = `${hash}\n${question}`;
        let pending = inFlight.get(key);
        if (!pending) {
          pending = ask(hash, question, key, { token, action, attributes: { ...attributes } }, callOptions);
          inFlight.set(key, pending);
        }
        decision = await pending;
      }
      if (!decision.allowed) metrics.denial(decision.reason);
      return decision;
    },
    clearCache: () => cache.clear(),
    cacheSize: () => cache.size,
    close() {
      closed = true;
      tokens.forget();
      cache.clear();
      raw.close();
    },
  };
  madeHere.add(client);
  return client;
}

/**
 * Only UNAVAILABLE on a channel that never had a connection during the call is "unreachable": the question
 * was never sent. A deadline may run out while gatehouse works on an attacker's token (an unknown kid parks it
 * on a key fetch), and a dropped connection or a proxy's UNAVAILABLE may come after gatehouse saw the question.
 */
function callError(method: string, err: ServiceError, neverConnected: () => boolean): GatehouseClientError {
  const name = status[err.code] ?? String(err.code);
  const details = { cause: err, grpcCode: err.code };
  if (err.code === status.UNAVAILABLE && neverConnected()) {
    return new GatehouseClientError(
      'ERR_GATEHOUSE_UNREACHABLE',
      `${method}: gatehouse could not be reached (${name}: ${err.details})`,
      details,
    );
  }
  if (err.code === status.DEADLINE_EXCEEDED) {
    return new GatehouseClientError(
      'ERR_GATEHOUSE_TIMEOUT',
      `${method}: gatehouse did not answer in time (${name}: ${err.details})`,
      details,
    );
  }
  if (err.code === status.UNAVAILABLE || err.code === status.CANCELLED) {
    return new GatehouseClientError('ERR_GATEHOUSE_UNAVAILABLE', `${method}: gatehouse did not answer (${name}: ${err.details})`, details);
  }
  return new GatehouseClientError('ERR_GATEHOUSE_CALL_FAILED', `${method}: gatehouse refused the call (${name}: ${err.details})`, details);
}

function closedError(method: string): GatehouseClientError {
  return new GatehouseClientError('ERR_CLIENT_CLOSED', `${method}: the AuthClient is closed`);
}

function checkOptions(options: AuthClientOptions): ChannelCredentials {
  const where = 'createAuthClient';
  if (typeof options.address !== 'string' || options.address.trim() === '') throw optionsError(where, 'address is required (host:port)');
  const { deadlineMs } = options;
  if (deadlineMs !== undefined && !(Number.isFinite(deadlineMs) && deadlineMs > 0)) {
    throw optionsError(where, `deadlineMs must be a positive number of milliseconds, got ${String(deadlineMs)}`);
  }
  for (const limit of ['maxEntries', 'maxBytes'] as const) {
    const value = options.cache === false ? undefined : options.cache?.[limit];
    if (value !== undefined && !(Number.isSafeInteger(value) && value >= 0)) {
      throw optionsError(where, `cache.${limit} must be an integer >= 0 (0 disables the cache), got ${String(value)}`);
    }
  }
  const { resends } = options;
  if (resends !== undefined && !(Number.isInteger(resends) && resends >= 0 && resends <= 5)) {
    throw optionsError(where, `resends must be an integer from 0 to 5, got ${String(resends)}`);
  }
  if (options.credentials) return options.credentials;
  if (!isLoopbackTarget(options.address)) {
    throw optionsError(
      where,
      `credentials is required for the non-loopback address ${options.address}: pass credentials.createSsl(...), ` +
        'or credentials.createInsecure() explicitly if a service mesh encrypts the hop',
    );
  }
  return grpcCredentials.createInsecure();
}
