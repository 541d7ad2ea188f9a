/**
 * Clients of gatehouse's TLS listeners for the transport tests: the serial of the certificate a new connection is
 * shown, a gRPC Verify over TLS (optionally with a client certificate), an HTTPS request, and the TLS reload
 * counters read from gatehouse's own registry.
 */
import { Client, credentials, Metadata, type ServiceDefinition, type ServiceError } from '@grpc/grpc-js';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { connect } from 'node:tls';
import type { Gatehouse } from '../../src/app.js';
import { AUTH_SERVICE_NAME, loadGatehouseProto } from '../../src/contract/proto.js';
import type { VerifyResponse } from '../../src/contract/messages.js';
import { parseExposition, valueOf } from '../telemetry/exposition.js';
import { sleep } from './gatehouse.js';
import type { Pem } from './tls-pki.js';

/** What a TLS client trusts and (for mTLS) presents: file paths. */
export interface TlsClientFiles {
  readonly ca: string;
  readonly client?: Pem | undefined;
}

/** The serial number (hex) of the certificate a new TLS connection to `port` is shown. */
export function peerSerial(port: number, files: TlsClientFiles): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({
      host: '127.0.0.1',
      port,
      servername: 'localhost',
      ca: readFileSync(files.ca),
      ...clientPair(files.client),
      ALPNProtocols: ['h2', 'http/1.1'],
    });
    socket.once('secureConnect', () => {
      resolve(socket.getPeerCertificate().serialNumber);
      socket.destroy();
    });
    socket.once('error', reject);
  });
}

/** A gRPC client of AuthService over TLS to `localhost:port` (the certificates name localhost). */
export class TlsAuthClient {
  readonly #client: Client;
  readonly #verify = (loadGatehouseProto()[AUTH_SERVICE_NAME] as ServiceDefinition).Verify!;

  constructor(port: number, files: TlsClientFiles) {
    const pair = files.client ? [readFileSync(files.client.key), readFileSync(files.client.cert)] : [];
    this.#client = new Client(`localhost:${port}`, credentials.createSsl(readFileSync(files.ca), pair[0] ?? null, pair[1] ?? null));
  }

  /** Verify with an empty token: an answer (TOKEN_MISSING) proves the channel works. */
  verify(): Promise<VerifyResponse> {
    const method = this.#verify;
    return new Promise<VerifyResponse>((resolve, reject) => {
      this.#client.makeUnaryRequest(
        method.path,
        method.requestSerialize,
        method.responseDeserialize as (b: Buffer) => VerifyResponse,
        { token: '' },
        new Metadata(),
        { deadline: Date.now() + 10_000 },
        (err: ServiceError | null, res?: VerifyResponse) => (err ? reject(err) : resolve(res!)),
      );
    });
  }

  close(): void {
    this.#client.close();
  }
}

/** One Verify on a connection of its own, closed after. */
export async function verifyOnce(port: number, files: TlsClientFiles): Promise<VerifyResponse> {
  const client = new TlsAuthClient(port, files);
  try {
    return await client.verify();
  } finally {
    client.close();
  }
}

/** A forward as nginx sends it, without a token: `/v1/authz` answers 401. */
export const FORWARD_WITHOUT_TOKEN = { 'x-original-method': 'GET', 'x-original-uri': '/orders' };

/** One HTTPS request on a connection of its own; resolves with the status. */
export function httpsStatus(port: number, path: string, files: TlsClientFiles, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        headers,
        servername: 'localhost',
        agent: false,
        ca: readFileSync(files.ca),
        ...clientPair(files.client),
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error('timed out')));
    req.end();
  });
}

/** `gatehouse_tls_reloads_total` of one listener and outcome. */
export async function tlsReloads(gatehouse: Gatehouse, listener: 'grpc' | 'http', outcome: 'success' | 'failure'): Promise<number> {
  const samples = parseExposition((await gatehouse.metrics.exposition()).body);
  return valueOf(samples, 'gatehouse_tls_reloads_total', { listener, outcome }) ?? Number.NaN;
}

/** Polls `check` until it holds; a file watch on a busy machine may take a few seconds, so the bound is generous. */
export async function eventually(what: string, check: () => Promise<boolean> | boolean): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    if (await check()) return;
    await sleep(20);
  }
  throw new Error(`timed out waiting until ${what}`);
}

function clientPair(client: Pem | undefined): { cert?: Buffer; key?: Buffer } {
  return client ? { cert: readFileSync(client.cert), key: readFileSync(client.key) } : {};
}
