/**
 * The CLI's own small gatehouse.v1.AuthService client: plaintext or TLS (and mTLS), 5 s deadline per call.
 * Kept in this one file so it can be swapped for the client library (src/client) later.
 */
import { readFileSync } from 'node:fs';
import { Client, credentials, Metadata, status, type MethodDefinition, type ServiceDefinition, type ServiceError } from '@grpc/grpc-js';
import type { AuthorizeRequest, AuthorizeResponse, VerifyRequest, VerifyResponse } from '../contract/messages.js';
import { AUTH_SERVICE_NAME, loadGatehouseProto } from '../contract/proto.js';

export const CALL_DEADLINE_MS = 5000;

export interface CliAuthClient {
  verify(token: string): Promise<VerifyResponse>;
  authorize(token: string, action: string): Promise<AuthorizeResponse>;
  close(): void;
}

/** How to reach gatehouse: `--address`, and `--tls-ca` (with `--tls-cert`/`--tls-key` for mTLS) for TLS. */
export interface ConnectionOptions {
  readonly address: string;
  readonly tlsCa?: string | undefined;
  readonly tlsCert?: string | undefined;
  readonly tlsKey?: string | undefined;
}

/** Connects lazily; nothing is sent until the first call. */
export function connectAuthClient(options: ConnectionOptions): CliAuthClient {
  const service = loadGatehouseProto()[AUTH_SERVICE_NAME] as ServiceDefinition;
  const channel = options.tlsCa
    ? credentials.createSsl(
        readFileSync(options.tlsCa),
        options.tlsKey ? readFileSync(options.tlsKey) : null,
        options.tlsCert ? readFileSync(options.tlsCert) : null,
      )
    : credentials.createInsecure();
  const client = new Client(options.address, channel);

  function call<Req, Res>(method: string, request: Req): Promise<Res> {
    const definition = service[method] as MethodDefinition<Req, Res>;
    return new Promise((resolve, reject) => {
      client.makeUnaryRequest(
        definition.path,
        definition.requestSerialize,
        definition.responseDeserialize,
        request,
        new Metadata(),
        { deadline: Date.now() + CALL_DEADLINE_MS },
        (err: ServiceError | null, response?: Res) =>
          response !== undefined && !err ? resolve(response) : reject(err ?? new Error('empty response')),
      );
    });
  }

  return {
    verify: (token) => call<VerifyRequest, VerifyResponse>('Verify', { token }),
    authorize: (token, action) => call<AuthorizeRequest, AuthorizeResponse>('Authorize', { token, action, attributes: {} }),
    close: () => client.close(),
  };
}

/** `gatehouse at ADDRESS: UNAVAILABLE: No connection established` (never the token). */
export function describeCallError(address: string, err: unknown): string {
  const e = err as Partial<ServiceError>;
  if (typeof e.code === 'number') return `gatehouse at ${address}: ${status[e.code] ?? e.code}: ${e.details ?? ''}`;
  return `gatehouse at ${address}: ${(err as Error).message ?? String(err)}`;
}
