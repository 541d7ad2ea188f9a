/**
 * The `server.http` listener, a thin router: `/metrics` for Prometheus, `/healthz` (the process is alive),
 * `/readyz` (config loaded and every issuer has usable keys or is still within its first fetch), and `/v1/authz`,
 * HTTP forward auth for nginx, Caddy and Traefik (forward-auth.ts).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FORWARD_AUTH_PATH } from './forward-auth.js';
import { answerClientError, MAX_REQUEST_HEADERS } from './http-limits.js';

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
}

export interface RunningHttpServer {
  readonly port: number;
  close(): Promise<void>;
}

export async function startHttpServer(options: HttpServerOptions): Promise<RunningHttpServer> {
  const server: Server = createServer(
    // Timeouts are checked every second (Node's default is 30 s), so headersTimeout below holds to the second.
    // requireHostHeader off: Node would answer a Host-less HTTP/1.1 request with a bare 400 and no X-Gatehouse-Reason;
    // forward auth refuses it itself, with its reason (forward-auth.ts), and probes may omit it.
    { maxHeaderSize: options.maxHeaderBytes, connectionsCheckingInterval: 1_000, requireHostHeader: false },
    (req, res) => route(options, req, res),
  );
  // One more than the limit, so forward-auth.ts can tell that headers were dropped, and refuse.
  server.maxHeadersCount = MAX_REQUEST_HEADERS + 1;
  server.on('clientError', answerClientError);
  server.keepAliveTimeout = 65_000;
  // A scraper, probe or proxy sends its few headers at once; a client that dribbles them is cut off quickly.
  server.headersTimeout = 10_000;
  server.requestTimeout = 15_000;
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
    // By the time this closes, gRPC has drained: nothing here is worth waiting for (a half-sent request would
    // otherwise hold shutdown open for as long as its sender likes).
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function route(options: HttpServerOptions, req: IncomingMessage, res: ServerResponse): void {
  const path = (req.url ?? '/').split('?')[0];
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

function splitAddress(address: string): { host: string; port: number } {
  const at = address.lastIndexOf(':');
  return { host: address.slice(0, at).replace(/^\[|\]$/g, ''), port: Number(address.slice(at + 1)) };
}
