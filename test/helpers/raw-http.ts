/**
 * HTTP/1.1 exactly as written: a request line and headers sent byte for byte over node:net (no client library to
 * normalise `/orders/../admin`, merge duplicate headers or refuse control characters), and the response read back.
 * Plus an upstream that echoes, as JSON, the headers each request brought it.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { connect, type AddressInfo } from 'node:net';

export interface RawResponse {
  readonly status: number;
  /** The status line as sent (`HTTP/1.1 500 Internal Server Error`). */
  readonly statusLine: string;
  /** Lower-cased names; every value of a repeated header, in order. */
  readonly headers: Readonly<Record<string, string[]>>;
  readonly body: string;
  /** The first value of a header, or undefined. */
  header(name: string): string | undefined;
}

/** Sends `method target` with `headers` (pairs, as given; Host and Connection: close added) and reads the answer. */
export function rawRequest(
  port: number,
  method: string,
  target: string,
  headers: readonly (readonly [string, string])[] = [],
): Promise<RawResponse> {
  const lines = [`${method} ${target} HTTP/1.1`, `Host: 127.0.0.1:${port}`, 'Connection: close', ...headers.map(([k, v]) => `${k}: ${v}`)];
  return rawExchange(port, `${lines.join('\r\n')}\r\n\r\n`);
}

/** Writes `bytes` to 127.0.0.1:`port` and parses whatever response comes back before the connection closes. */
export function rawExchange(port: number, bytes: string): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.setTimeout(15_000, () => socket.destroy(new Error('no complete response within 15 s')));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.once('error', (err) => (chunks.length ? resolve(parse(Buffer.concat(chunks).toString('latin1'))) : reject(err)));
    socket.once('end', () => {
      try {
        resolve(parse(Buffer.concat(chunks).toString('latin1')));
      } catch (err) {
        reject(err as Error);
      }
    });
    socket.write(bytes, 'latin1');
  });
}

function parse(text: string): RawResponse {
  const split = text.indexOf('\r\n\r\n');
  if (split === -1) throw new Error(`no complete response: ${JSON.stringify(text.slice(0, 200))}`);
  const [statusLine, ...headerLines] = text.slice(0, split).split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine ?? '')?.[1]);
  const headers: Record<string, string[]> = {};
  for (const line of headerLines) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).trim().toLowerCase();
    (headers[name] ??= []).push(line.slice(colon + 1).trim());
  }
  let body = text.slice(split + 4);
  if (headers['transfer-encoding']?.includes('chunked')) body = dechunk(body);
  return { status, statusLine: statusLine ?? '', headers, body, header: (name) => headers[name.toLowerCase()]?.[0] };
}

function dechunk(body: string): string {
  let out = '';
  for (let at = 0; ;) {
    const eol = body.indexOf('\r\n', at);
    const size = parseInt(body.slice(at, eol), 16);
    if (!size) return out;
    out += body.slice(eol + 2, eol + 2 + size);
    at = eol + 2 + size + 2;
  }
}

/** One request as the echo upstream received it. */
export interface EchoedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  /** Every header name, lower-cased, with all its values. */
  readonly distinct: Record<string, string[]>;
}

export interface EchoUpstream {
  readonly port: number;
  /** Every request received, in order. */
  readonly received: EchoedRequest[];
  close(): Promise<void>;
}

/** An HTTP service on 127.0.0.1:0 that answers 200 with the request it received, as JSON. */
export async function startEchoUpstream(): Promise<EchoUpstream> {
  const received: EchoedRequest[] = [];
  const server = createServer((req, res) => {
    const echoed = {
      method: req.method ?? '',
      url: req.url ?? '',
      headers: req.headers,
      distinct: req.headersDistinct as Record<string, string[]>,
    };
    received.push(echoed);
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(echoed)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
