/**
 * The gRPC listener: AuthService, Envoy's ext_authz Authorization/Check, grpc.health.v1.Health (the probe for Kubernetes and load balancers) and
 * reflection (grpcurl works without the proto). Shutdown: health goes NOT_SERVING, new calls get UNAVAILABLE,
 * in-flight calls finish within the grace period.
 */
import {
  experimental,
  Server,
  ServerCredentials,
  type MethodDefinition,
  type ServerInterceptor,
  type ServiceDefinition,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { ReflectionService } from '@grpc/reflection';
import { HealthImplementation } from 'grpc-health-check';
import {
  AUTH_SERVICE_NAME,
  ENVOY_AUTHORIZATION_SERVICE,
  loadEnvoyAuthProto,
  loadEnvoyAuthTypes,
  loadGatehouseProto,
  loadGatehouseTypes,
} from '../contract/proto.js';
import type { Admission } from './admission.js';
import { authServiceHandlers, type AuthServiceDeps } from './auth-service.js';
import { envoyCheckHandlers, type EnvoyCheckDeps } from './envoy-check.js';
import { admittedHandlers } from './grpc-admission.js';
import { checkResponseEncoder, withPreparedCheckResponse } from './prepared-check-response.js';
import { responseEncoders, withPreparedResponses } from './prepared-responses.js';
import type { TlsReloader } from './tls-reloader.js';
import { tolerantService } from './tolerant-service.js';
import type { Door } from './telemetry-hooks.js';

/** Streams in flight per connection (HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS); more are refused by the peer's stack. */
export const MAX_CONCURRENT_STREAMS = 100;
/** Node's HTTP/2 session memory bound, in megabytes, per connection (grpc-js lifts it to unlimited by default). */
const MAX_SESSION_MEMORY_MB = 20;

export interface GrpcServerOptions extends Omit<AuthServiceDeps, 'shuttingDown'>, Partial<Pick<EnvoyCheckDeps, 'stripAuthorization'>> {
  readonly address: string;
  /** server.max_message_bytes: larger requests are refused, undecoded, with INVALID_ARGUMENT. */
  readonly maxMessageBytes: number;
  /** server.max_connection_age: then GOAWAY, and the connection's calls get `graceMs` to finish. */
  readonly maxConnectionAge?: { readonly ageMs: number; readonly graceMs: number };
  /** server.tls, re-read when its files change; absent: plaintext (loopback, sidecar, or a mesh with mTLS). */
  readonly tls?: TlsReloader | undefined;
  /** server.max_inflight over the AuthService and Envoy Check handlers (grpc-admission.ts); absent: no bound. */
  readonly admission?: Admission;
  /** Outermost first: metrics and logging before anything that may reject. */
  readonly interceptors?: ServerInterceptor[];
}

export interface RunningGrpcServer {
  readonly port: number;
  readonly health: HealthImplementation;
  /** Every method served (AuthService, Envoy's Check, health, reflection): metrics pre-initialise a series for each. */
  readonly methods: readonly MethodDefinition<unknown, unknown>[];
  /**
   * Health NOT_SERVING at once; new calls are still served for `delayMs` (while load balancers and Kubernetes
   * endpoints catch up), then refused with UNAVAILABLE while in-flight calls get up to `graceMs` to finish.
   */
  shutdown(graceMs: number, delayMs?: number): Promise<void>;
}

export async function startGrpcServer(options: GrpcServerOptions): Promise<RunningGrpcServer> {
  const packageDefinition = loadGatehouseProto();
  const envoyDefinition = loadEnvoyAuthProto();
  const bounded = (definition: typeof packageDefinition, name: string) =>
    tolerantService(definition[name] as ServiceDefinition, options.maxMessageBytes, name.slice(0, name.lastIndexOf('.')));
  let shuttingDown = false;
  const server = new MethodListingServer({
    // The transport's ceiling. Up to it, a request over server.max_message_bytes is read but not decoded, and
    // refused with INVALID_ARGUMENT and a message naming the limit; past it, grpc-js stops at the length prefix
    // and answers RESOURCE_EXHAUSTED without buffering the rest (it must never hold megabytes per stream).
    'grpc.max_receive_message_length': 2 * options.maxMessageBytes,
    // What one connection may hold: streams that never finish their message each keep up to the ceiling above in
    // Buffers outside V8's heap, so without these a few connections with thousands of streams each exhaust memory.
    'grpc.max_concurrent_streams': MAX_CONCURRENT_STREAMS,
    'grpc-node.max_session_memory': MAX_SESSION_MEMORY_MB,
    // channelz stays on (its default), although gatehouse serves no channelz: grpc-js 1.14's forceShutdown() ends only
    // the sessions its channelz handler tracks, so without it a call still open at shutdown_grace is never ended
    // (test/server/shutdown.test.ts).
    'grpc.enable_channelz': 1,
    // Clients re-resolve only when a connection ends: an old one is closed gracefully, so new replicas get calls.
    ...(options.maxConnectionAge
      ? {
          'grpc.max_connection_age_ms': options.maxConnectionAge.ageMs,
          'grpc.max_connection_age_grace_ms': options.maxConnectionAge.graceMs,
        }
      : {}),
    interceptors: options.interceptors ?? [],
  });
  const authService = withPreparedResponses(bounded(packageDefinition, AUTH_SERVICE_NAME), responseEncoders(loadGatehouseTypes()));
  const admitted = (door: Door, handlers: UntypedServiceImplementation) =>
    options.admission ? admittedHandlers(options.admission, door, handlers) : handlers;
  server.addService(authService, admitted('grpc', authServiceHandlers({ ...options, shuttingDown: () => shuttingDown })));
  server.addService(
    withPreparedCheckResponse(bounded(envoyDefinition, ENVOY_AUTHORIZATION_SERVICE), checkResponseEncoder(loadEnvoyAuthTypes())),
    admitted(
      'envoy',
      envoyCheckHandlers({ ...options, stripAuthorization: options.stripAuthorization ?? (() => false), shuttingDown: () => shuttingDown }),
    ),
  );

  const services = ['', AUTH_SERVICE_NAME, ENVOY_AUTHORIZATION_SERVICE];
  const health = new HealthImplementation(Object.fromEntries(services.map((name) => [name, 'SERVING' as const])));
  health.addToServer(server);
  new ReflectionService(packageDefinition).addToServer(server);

  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(options.address, serverCredentials(options.tls), (err, boundPort) => (err ? reject(err) : resolve(boundPort)));
  });

  return {
    port,
    health,
    methods: server.methods,
    async shutdown(graceMs, delayMs = 0) {
      for (const name of services) health.setStatus(name, 'NOT_SERVING');
      if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
      shuttingDown = true;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, graceMs);
        timer.unref();
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
  };
}

/** Remembers the methods of every service added, including those health and reflection add themselves. */
class MethodListingServer extends Server {
  readonly methods: MethodDefinition<unknown, unknown>[] = [];

  override addService(service: ServiceDefinition, implementation: UntypedServiceImplementation): void {
    this.methods.push(...Object.values(service));
    super.addService(service, implementation);
  }
}

/**
 * TLS when configured; with a client CA, every client must present a certificate that CA signed. grpc-js's way
 * to change a bound server's certificate is a certificate provider: each update becomes the listener's secure
 * context (`setSecureContext`) for new connections. Its FileWatcherCertificateProvider is not used: it polls,
 * and hands over whatever it read, so a half-rotated or broken pair (or a read mid-swap, which it reports as no
 * certificate at all) would make grpc-js drop every new connection. This one hands over only checked material.
 */
function serverCredentials(tls: TlsReloader | undefined): ServerCredentials {
  if (!tls) return ServerCredentials.createInsecure();
  const provider = new CheckedCertificateProvider(tls);
  // grpc-js 1.14 names the parameters (ca, identity) but passes them on as (identity, ca): the types say the order.
  return experimental.createCertificateProviderServerCredentials(
    provider,
    tls.files.client_ca ? provider : null,
    tls.files.client_ca !== undefined,
  );
}

/** The reloader's material, as grpc-js's CertificateProvider: the current one to each new listener, then every change. */
class CheckedCertificateProvider implements experimental.CertificateProvider {
  readonly #identity = new Map<experimental.IdentityCertificateUpdateListener, () => void>();
  readonly #ca = new Map<experimental.CaCertificateUpdateListener, () => void>();

  constructor(private readonly tls: TlsReloader) {}

  addIdentityCertificateListener(listener: experimental.IdentityCertificateUpdateListener): void {
    const push = ({ cert, key }: { cert: Buffer; key: Buffer }) => listener({ certificate: cert, privateKey: key });
    this.#identity.set(listener, this.tls.subscribe(push));
    // Next tick, as grpc-js's own providers do: the server registers its watcher after adding this listener.
    process.nextTick(push, this.tls.current);
  }

  removeIdentityCertificateListener(listener: experimental.IdentityCertificateUpdateListener): void {
    this.#identity.get(listener)?.();
    this.#identity.delete(listener);
  }

  addCaCertificateListener(listener: experimental.CaCertificateUpdateListener): void {
    const push = ({ ca }: { ca: Buffer | undefined }) => {
      if (ca) listener({ caCertificate: ca });
    };
    this.#ca.set(listener, this.tls.subscribe(push));
    process.nextTick(push, this.tls.current);
  }

  removeCaCertificateListener(listener: experimental.CaCertificateUpdateListener): void {
    this.#ca.get(listener)?.();
    this.#ca.delete(listener);
  }
}
