/**
 * A client for envoy.service.auth.v3.Authorization built from Envoy's OWN published proto files (shipped in
 * @grpc/grpc-js-xds), never from gatehouse's trimmed copy, with field names as Envoy writes them (snake_case). Requests
 * are shaped as Envoy's ext_authz filter sends them, for a gRPC and for a plain HTTP upstream, in either header
 * encoding (`headers`, or `header_map` with raw values as `encode_raw_headers: true` sends them).
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { credentials, makeClientConstructor, Metadata, type Client, type ServiceDefinition, type ServiceError } from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

const xdsDeps = join(dirname(createRequire(import.meta.url).resolve('@grpc/grpc-js-xds/package.json')), 'deps');

/** Envoy's external_auth.proto and everything it imports, from Envoy's published files. */
export function loadEnvoyPublishedProto(): protoLoader.PackageDefinition {
  return protoLoader.loadSync('envoy/service/auth/v3/external_auth.proto', {
    keepCase: true,
    longs: String,
    enums: String,
    defaults: false,
    oneofs: true,
    includeDirs: ['envoy-api', 'xds', 'googleapis', 'protoc-gen-validate'].map((dir) => join(xdsDeps, dir)),
  });
}

/** The include dirs of Envoy's published protos (for tests that compare descriptors). */
export const ENVOY_PUBLISHED_INCLUDE_DIRS = ['envoy-api', 'xds', 'googleapis', 'protoc-gen-validate'].map((dir) => join(xdsDeps, dir));

export const AUTHORIZATION_SERVICE = 'envoy.service.auth.v3.Authorization';

export interface HeaderValueOption {
  header: { key: string; value?: string; raw_value?: Buffer };
  append_action?: string;
  keep_empty_value?: boolean;
}

/** google.protobuf.Value: protobufjs's built-in well-known types keep their camelCase names even with keepCase. */
interface StructValue {
  stringValue?: string;
  boolValue?: boolean;
  numberValue?: number;
  listValue?: { values?: StructValue[] };
}

/** A CheckResponse as Envoy's files decode it (absent fields are absent: defaults off). */
export interface CheckResponse {
  status?: { code?: number; message?: string };
  http_response?: 'denied_response' | 'ok_response';
  denied_response?: { status?: { code?: string }; headers?: HeaderValueOption[]; body?: string };
  ok_response?: { headers?: HeaderValueOption[]; headers_to_remove?: string[] };
  dynamic_metadata?: { fields?: Record<string, StructValue> };
}

export interface RequestShape {
  method?: string;
  path: string;
  /** Header lines as the client sent them (a name may repeat). */
  headers?: readonly (readonly [string, string])[];
  /** `header_map` with raw values instead of the `headers` map. */
  raw?: boolean;
  contextExtensions?: Record<string, string>;
  /** Content-type application/grpc, method POST, HTTP/2. */
  grpc?: boolean;
}

/** The CheckRequest Envoy's HTTP ext_authz filter sends for one downstream request. */
export function envoyCheckRequest(shape: RequestShape): Record<string, unknown> {
  const method = shape.method ?? (shape.grpc ? 'POST' : 'GET');
  const lines: [string, string][] = [
    [':authority', 'orders.example.test'],
    [':path', shape.path],
    [':method', method],
    [':scheme', 'http'],
    ...(shape.grpc
      ? ([
          ['content-type', 'application/grpc'],
          ['te', 'trailers'],
        ] as [string, string][])
      : []),
    ['user-agent', shape.grpc ? 'grpc-node-js/1.14.7' : 'curl/8.5.0'],
    ['x-forwarded-proto', 'http'],
    ...(shape.headers ?? []).map(([k, v]) => [k.toLowerCase(), v] as [string, string]),
  ];
  // Envoy's `headers` map: lower-cased names, a repeated header joined with ",".
  const joined: Record<string, string> = {};
  for (const [key, value] of lines) joined[key] = key in joined ? `${joined[key]},${value}` : value;
  const requestId = joined['x-request-id'] ?? '';
  const http = {
    id: requestId || '4412908721550981652',
    method,
    path: shape.path,
    host: 'orders.example.test',
    scheme: 'http',
    protocol: shape.grpc ? 'HTTP/2' : 'HTTP/1.1',
    size: shape.grpc ? '-1' : '0',
    ...(shape.raw
      ? { header_map: { headers: lines.map(([key, value]) => ({ key, raw_value: Buffer.from(value) })) } }
      : { headers: joined }),
  };
  return {
    attributes: {
      source: { address: { socket_address: { address: '10.1.2.3', port_value: 51234 } } },
      destination: { address: { socket_address: { address: '10.1.2.4', port_value: 8080 } }, principal: '' },
      request: { time: { seconds: String(Math.floor(Date.now() / 1000)), nanos: 0 }, http },
      context_extensions: shape.contextExtensions ?? {},
      metadata_context: {},
    },
  };
}

type CheckMethod = (
  request: Record<string, unknown>,
  metadata: Metadata,
  options: { deadline: number },
  callback: (err: ServiceError | null, response?: CheckResponse) => void,
) => void;

/** Calls Check as Envoy does; rejects with the grpc-js ServiceError on an RPC error. */
export class EnvoyTestClient {
  readonly #client: Client & { Check: CheckMethod };

  constructor(address: string) {
    const definition = loadEnvoyPublishedProto()[AUTHORIZATION_SERVICE] as ServiceDefinition;
    const Ctor = makeClientConstructor(definition, AUTHORIZATION_SERVICE) as unknown as new (
      address: string,
      creds: ReturnType<typeof credentials.createInsecure>,
    ) => Client & { Check: CheckMethod };
    this.#client = new Ctor(address, credentials.createInsecure());
  }

  check(shape: RequestShape | Record<string, unknown>): Promise<CheckResponse> {
    const request = 'path' in shape ? envoyCheckRequest(shape as RequestShape) : shape;
    return new Promise((resolve, reject) => {
      this.#client.Check(request, new Metadata(), { deadline: Date.now() + 10_000 }, (err, response) =>
        err ? reject(err) : resolve(response!),
      );
    });
  }

  close(): void {
    this.#client.close();
  }
}

/** The value of header `key` among `options` (undefined when absent), and every option names it at most once. */
export function headerOf(options: readonly HeaderValueOption[] | undefined, key: string): string | undefined {
  const found = (options ?? []).filter((o) => o.header.key === key);
  if (found.length > 1) throw new Error(`header ${key} set ${found.length} times`);
  return found[0]?.header.value;
}

/** A dynamic_metadata Struct as plain JSON. */
export function plainStruct(struct: CheckResponse['dynamic_metadata']): Record<string, unknown> {
  const plain = (value: StructValue): unknown =>
    value.listValue ? (value.listValue.values ?? []).map(plain) : (value.stringValue ?? value.boolValue ?? value.numberValue ?? null);
  return Object.fromEntries(Object.entries(struct?.fields ?? {}).map(([key, value]) => [key, plain(value)]));
}
