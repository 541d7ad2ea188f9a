/**
 * The `server.http` listener, a thin router: `/metrics` for Prometheus, `/healthz` (the process is alive),
 * `/readyz` (config loaded and every issuer has usable keys or is still within its first fetch), and `/v1/authz`,
 * HTTP forward auth for nginx, Caddy and Traefik (forward-auth.ts). With `server.http_tls` it speaks HTTPS (and,
 * with a client CA, only to clients presenting a certificate that CA signed), its certificate re-read on change.
 */
import { createServer, type IncomingMessage, type Server, type ServerOptions, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { SecureContextOptions } from 'node:tls';
import type { TlsMaterial } from '../config/tls-files.js';
import { FORWARD_AUTH_PATH } from './forward-auth.js';
import { answerClientError, MAX_HEADERS_COUNT } from './http-limits.js';
import type { TlsReloader } from './tls-reloader.js';

/** A scraper, probe or proxy sends its few headers at once; a client that dribbles them is cut off quickly. */
const HEADERS_TIMEOUT_MS = 10_000;

export interface Readiness {
  readonly ready: boolean;
  readonly detail: Record<string, unknown>;
}

export interface HttpServerOptions {
  readonly address: string;
  readonly readiness: () => Readiness;
  /** The Prometheus exposition; absent: /metrics is 404. */
  readonly metrics?: () => Promise<{ contentType: string; body: string }>;
  /** The `/v1/authz` handler (any method); absent: 404. */
  readonly forwardAuth?: (req: IncomingMessage, res: ServerResponse) => void;
  /** The byte bound of a request's header block (http-limits.ts maxHeaderBytes); absent: Node's 16 KiB. */
  readonly maxHeaderBytes?: number;
  /** server.http_tls, re-read when its files change; absent: plain HTTP (loopback, a sidecar proxy). */
  readonly tls?: TlsReloader | undefined;
}

export interface RunningHttpServer {
  readonly port: number;
  /**
   * Resolves once every request in flight now is answered, or after `graceMs`. From now on every answer says
   * `connection: close`, so no client sends another request on it; new requests are still answered meanwhile
   * (forwards with 503 once shutdown refuses them, /readyz with 503, /metrics as ever).
   */
  drain(graceMs: number): Promise<void>;
  /** Stops listening and closes every connection left. */
  close(): Promise<void>;
}

export async function startHttpServer(options: HttpServerOptions): Promise<RunningHttpServer> {
  // Timeouts are checked every second (Node's default is 30 s), so headersTimeout below holds to the second.
  // requireHostHeader off: Node would answer a Host-less HTTP/1.1 request with a bare 400 and no X-Gatehouse-Reason;
  // forward auth refuses it itself, with its reason (forward-auth.ts), and probes may omit it.
  const httpOptions: ServerOptions = {
    maxHeaderSize: options.maxHeaderBytes,
    connectionsCheckingInterval: 1_000,
    requireHostHeader: false,
  };
  const open = new Set<ServerResponse>();
  let draining = false;
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    if (draining) res.setHeader('connection', 'close');
    try {
      route(options, req, res);
    } finally {
      // Answered and handed to the socket before route returned (a cached decision, a probe): nothing for drain to
      // wait for, so no entry and no listener on the path of every forward.
      if (!res.writableFinished) {
        open.add(res);
        res.once('close', () => open.delete(res));
      }
    }
  };
  const { tls } = options;
  let server: Server;
  if (tls) {
    const mutual = tls.files.client_ca !== undefined;
    const https = createHttpsServer(
      // A handshake gets as long as the headers do (Node's default is 120 s per silent socket).
      {
        ...httpOptions,
        ...secureContext(tls.current),
        requestCert: mutual,
        rejectUnauthorized: mutual,
        handshakeTimeout: HEADERS_TIMEOUT_MS,
      },
      handle,
    );
    // A failed or timed-out handshake has no HTTP to answer with: close it (https would hand it to clientError,
    // whose 400 would wait, unsent, behind the unfinished handshake and hold the socket open).
    https.prependListener('tlsClientError', (_err, socket) => socket.destroy());
    // Checked by the reloader (a context Node refuses would throw here, and the old one stays).
    tls.subscribe((material) => https.setSecureContext(secureContext(material)));
    server = https;
  } else {
    server = createServer(httpOptions, handle);
  }
  // One more than the limit, so forward-auth.ts can tell that headers were dropped, and refuse.
  server.maxHeadersCount = MAX_HEADERS_COUNT;
  server.on('clientError', answerClientError);
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = HEADERS_TIMEOUT_MS;
  server.requestTimeout = 15_000;
  // A socket with no traffic either way this long (a client that stopped reading its answers): closed. Idle
  // keep-alive sockets are closed sooner, by keepAliveTimeout; a forward waits on a key fetch at most 60 s.
  server.timeout = 90_000;
  const { host, port } = splitAddress(options.address);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    drain(graceMs) {
      draining = true;
      // Only requests already read are waited for: a half-sent one would otherwise hold shutdown open for as long
      // as its sender likes.
      const pending = [...open];
      for (const res of pending) if (!res.headersSent) res.setHeader('connection', 'close');
      // Idle keep-alive connections stay open until close(): closing one now races a request its client is sending.
      return new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, graceMs);
        void Promise.all(pending.map((res) => (res.closed ? undefined : new Promise((done) => res.once('close', done))))).then(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function route(options: HttpServerOptions, req: IncomingMessage, res: ServerResponse): void {
  const url = req.url ?? '/';
  const query = url.indexOf('?');
  const path = query === -1 ? url : url.slice(0, query);
  if (path === FORWARD_AUTH_PATH && options.forwardAuth) {
    options.forwardAuth(req, res);
    return;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD' }).end();
    return;
  }
  if (path === '/healthz') {
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    return;
  }
  if (path === '/readyz') {
    const { ready, detail } = options.readiness();
    res.writeHead(ready ? 200 : 503, { 'content-type': 'application/json' }).end(`${JSON.stringify({ ready, ...detail })}\n`);
    return;
  }
  if (path === '/metrics' && options.metrics) {
    options.metrics().then(
      ({ contentType, body }) => res.writeHead(200, { 'content-type': contentType }).end(body),
      () => res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics unavailable\n'),
    );
    return;
  }
  res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
}

function secureContext(material: TlsMaterial): SecureContextOptions {
  return { cert: material.cert, key: material.key, ...(material.ca ? { ca: material.ca } : {}) };
}

function splitAddress(address: string): { host: string; port: number } {
  const at = address.lastIndexOf(':');
  return { host: address.slice(0, at).replace(/^\[|\]$/g, ''), port: Number(address.slice(at + 1)) };
}
