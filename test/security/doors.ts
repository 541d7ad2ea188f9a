/**
 * The three doors of one gatehouse, asked the same question: gRPC `Authorize`, Envoy `Check` (a client built from
 * Envoy's own protos) and HTTP forward auth `/v1/authz` (raw bytes, so duplicate headers and control characters go
 * out exactly as written). A question is the request's `authorization` header lines, its method and path, and any
 * other headers; each door turns it into its own wire form, and each answer comes back as one {@link DoorAnswer}.
 */
import { status as grpcStatus, type ServiceError } from '@grpc/grpc-js';
import type { TestGatehouse } from '../helpers/gatehouse.js';
import { EnvoyTestClient, headerOf } from '../helpers/envoy-client.js';
import { rawExchange } from '../helpers/raw-http.js';

export type Door = 'grpc' | 'envoy' | 'http';
export const DOORS: readonly Door[] = ['grpc', 'envoy', 'http'];

/** One request, door-neutral. */
export interface Question {
  /** `authorization` header lines, in order (none: no header). gRPC's `token` field is the one line, or all joined with ", ". */
  readonly authorization: readonly string[];
  readonly method: string;
  /** The request target as the client sent it (query included). */
  readonly path: string;
  /** Other headers (gRPC: metadata, where grpc-js can send them). */
  readonly headers?: readonly (readonly [string, string])[];
}

/**
 * What a door answered: `ALLOWED`; a decision's reason; or, for a request refused before any decision, the door's
 * own word: `grpc:<CODE>` for an RPC error, the `X-Gatehouse-Reason` of an HTTP refusal (FORWARD_MALFORMED, ...).
 */
export interface DoorAnswer {
  readonly outcome: string;
  /** The HTTP status (HTTP door, and Envoy's denied_response), or the gRPC status code name. */
  readonly status: string;
}

export class Doors {
  readonly #gh: TestGatehouse;
  readonly #envoy: EnvoyTestClient;

  constructor(gh: TestGatehouse) {
    this.#gh = gh;
    this.#envoy = new EnvoyTestClient(gh.address);
  }

  ask(door: Door, question: Question): Promise<DoorAnswer> {
    if (door === 'grpc') return this.#grpc(question);
    if (door === 'envoy') return this.#envoyCheck(question);
    return this.#http(question);
  }

  close(): void {
    this.#envoy.close();
  }

  async #grpc(q: Question): Promise<DoorAnswer> {
    const token = q.authorization.join(', ');
    // grpc-js refuses to send metadata values it cannot encode (control characters): those are HTTP-only cases.
    const metadata = Object.fromEntries((q.headers ?? []).filter(([, v]) => /^[\x20-\x7e]*$/.test(v)));
    try {
      const { response } = await this.#gh.client.authorize(token, `${q.method} ${stripQuery(q.path)}`, { metadata });
      return response.allowed
        ? { outcome: 'ALLOWED', status: 'OK' }
        : { outcome: response.denial?.reason ?? 'REASON_UNSPECIFIED', status: 'OK' };
    } catch (err) {
      const code = grpcStatus[(err as ServiceError).code] ?? String((err as ServiceError).code);
      return { outcome: `grpc:${code}`, status: code };
    }
  }

  async #envoyCheck(q: Question): Promise<DoorAnswer> {
    try {
      const response = await this.#envoy.check({
        method: q.method,
        path: q.path,
        raw: true,
        headers: [...q.authorization.map((v) => ['authorization', v] as const), ...(q.headers ?? [])],
      });
      if (response.http_response === 'ok_response') return { outcome: 'ALLOWED', status: '200' };
      const reason = headerOf(response.denied_response?.headers, 'x-gatehouse-reason') ?? 'REASON_UNSPECIFIED';
      return { outcome: reason, status: response.denied_response?.status?.code ?? '' };
    } catch (err) {
      const code = grpcStatus[(err as ServiceError).code] ?? String((err as ServiceError).code);
      return { outcome: `grpc:${code}`, status: code };
    }
  }

  async #http(q: Question): Promise<DoorAnswer> {
    const lines = [
      'GET /v1/authz HTTP/1.1',
      'Host: 127.0.0.1',
      'Connection: close',
      `X-Original-Method: ${q.method}`,
      `X-Original-URI: ${q.path}`,
      ...q.authorization.map((v) => `Authorization: ${v}`),
      ...(q.headers ?? []).map(([k, v]) => `${k}: ${v}`),
    ];
    const res = await rawExchange(this.#gh.gatehouse.httpPort, `${lines.join('\r\n')}\r\n\r\n`);
    if (res.status === 200) return { outcome: 'ALLOWED', status: '200' };
    return { outcome: res.header('x-gatehouse-reason') ?? `http:${res.status}`, status: String(res.status) };
  }
}

function stripQuery(path: string): string {
  const end = path.indexOf('?');
  return end === -1 ? path : path.slice(0, end);
}
