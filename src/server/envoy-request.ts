/**
 * What an Envoy CheckRequest asks: the token, the action, the request id, and the `x-gatehouse-*` headers the caller
 * sent (to be removed). Envoy sends the request's headers either in `headers` (lower-cased names; a header sent twice
 * arrives as one value joined with ",") or in `header_map` (every header as sent, the value in `raw_value`); a crafted
 * request may hold both, so both are read. Two `authorization` values, however they arrive, are a malformed request:
 * one is never picked over the other.
 */
import { requestIdFrom } from '../contract/request-id.js';
import type { TokenRefusal } from '../decisions/outcome.js';
import { httpAction } from '../policy/http-action.js';
import { IDENTITY_HEADER_PREFIX, IDENTITY_HEADERS } from './http-answer.js';
import { MAX_ACTION_LENGTH } from './request-limits.js';
import { RequestError } from './to-status.js';
import type { Facts } from '../policy/condition-variables.js';
import { requestFacts } from './request-facts.js';

/** Headers of one CheckRequest, `headers` and `header_map` together (Envoy's own limit is 100 by default). */
export const MAX_CHECK_HEADERS = 256;
/** Entries of `context_extensions` (set per route by the operator, so few). */
export const MAX_CONTEXT_EXTENSIONS = 64;
/** The `context_extensions` key whose value, when present, is the action (per route, instead of the request's). */
export const ACTION_EXTENSION = 'gatehouse_action';

/** The decoded request as proto-loader gives it (camelCase names, defaults filled in). */
export interface WireCheckRequest {
  readonly attributes?: {
    readonly request?: { readonly http?: WireHttpRequest | null } | null;
    readonly contextExtensions?: Readonly<Record<string, string>>;
  } | null;
}

interface WireHttpRequest {
  readonly id?: string;
  readonly method?: string;
  readonly path?: string;
  readonly host?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly headerMap?: { readonly headers?: readonly WireHeaderValue[] } | null;
}

interface WireHeaderValue {
  readonly key?: string;
  readonly value?: string;
  readonly rawValue?: Uint8Array;
}

export interface EnvoyRequest {
  readonly action: string;
  /** A gRPC request (content-type application/grpc*): a denial also carries grpc-status and grpc-message. */
  readonly grpc: boolean;
  readonly requestId: string;
  /** The `authorization` value ('' when none), or the refusal of a request that carried it twice. */
  readonly token: string | TokenRefusal;
  /** The `x-gatehouse-*` headers the caller sent that gatehouse does not set itself (lower-cased, each once). */
  readonly foreignIdentityHeaders: readonly string[];
  /**
   * For `when` conditions: `attributes` are the route's context_extensions (set by the operator, never by the
   * caller), `request` the HTTP request (request-facts.ts), built only if a condition reads it.
   */
  readonly facts: Facts;
}

/** A full gRPC method name, `/package.Service/Method`: anything else is decided as the HTTP request it is. */
const GRPC_METHOD = /^\/[A-Za-z_][\w.]*\/[A-Za-z_]\w*$/;
const GRPC_CONTENT_TYPE = /^application\/grpc/i;
const OWN_HEADERS: ReadonlySet<string> = new Set(IDENTITY_HEADERS);

/** Reads `request`; a request gatehouse cannot decide at all throws a {@link RequestError} (INVALID_ARGUMENT). */
export function readCheckRequest(request: WireCheckRequest): EnvoyRequest {
  const http = request.attributes?.request?.http;
  if (!http) throw new RequestError('INVALID_ARGUMENT', 'the CheckRequest has no HTTP request attributes (attributes.request.http)');
  const extensions = request.attributes?.contextExtensions ?? {};
  if (Object.keys(extensions).length > MAX_CONTEXT_EXTENSIONS) {
    throw new RequestError('INVALID_ARGUMENT', `the CheckRequest has more than ${MAX_CONTEXT_EXTENSIONS} context_extensions`);
  }
  const headers = new RequestHeaders(http);
  // A gRPC call is a POST; any other method with a gRPC content-type is decided as the HTTP request it is.
  const grpc = http.method === 'POST' && GRPC_CONTENT_TYPE.test(headers.first('content-type') ?? '');
  return {
    action: actionOf(http, grpc, extensions[ACTION_EXTENSION]),
    grpc,
    requestId: requestIdFrom(headers.first('x-request-id') ?? http.id),
    token: headers.authorization(),
    foreignIdentityHeaders: headers.names().filter(isForeignIdentityHeader),
    facts: {
      attributes: extensions,
      request: () => requestFacts(http.method ?? '', http.path ?? '', http.host ?? '', headers.entries()),
    },
  };
}

/**
 * An `x-gatehouse-*` header gatehouse does not set itself, read with `_` as `-`: CGI, WSGI and FastCGI upstreams map
 * `x_gatehouse_subject` and `x-gatehouse-subject` to one name, so an underscore form would sit beside the real one.
 */
function isForeignIdentityHeader(name: string): boolean {
  return name.replace(/_/g, '-').startsWith(IDENTITY_HEADER_PREFIX) && !OWN_HEADERS.has(name);
}

function actionOf(http: WireHttpRequest, grpc: boolean, override: string | undefined): string {
  const path = http.path ?? '';
  const action = override ?? (grpc && GRPC_METHOD.test(path) ? path : httpAction(http.method ?? '', path));
  if (!action) throw new RequestError('INVALID_ARGUMENT', `context_extensions.${ACTION_EXTENSION} is empty`);
  if (action.length > MAX_ACTION_LENGTH) {
    throw new RequestError('INVALID_ARGUMENT', `the action is longer than ${MAX_ACTION_LENGTH} characters`);
  }
  return action;
}

/** The request's headers from both encodings, kept apart so that the two can be compared. */
class RequestHeaders {
  /** From `headers`: lower-cased name → values (a crafted request may repeat a name in another case). */
  readonly #mapped = new Map<string, string[]>();
  /** From `header_map`: lower-cased name → values, one per header line. */
  readonly #raw = new Map<string, string[]>();

  constructor(http: WireHttpRequest) {
    const entries = Object.entries(http.headers ?? {});
    const lines = http.headerMap?.headers ?? [];
    if (entries.length + lines.length > MAX_CHECK_HEADERS) {
      throw new RequestError('INVALID_ARGUMENT', `the CheckRequest has more than ${MAX_CHECK_HEADERS} headers`);
    }
    for (const [key, value] of entries) add(this.#mapped, key, value);
    for (const line of lines) {
      const raw = line.rawValue && line.rawValue.length > 0 ? Buffer.from(line.rawValue).toString('latin1') : undefined;
      add(this.#raw, line.key ?? '', raw ?? line.value ?? '');
    }
  }

  first(name: string): string | undefined {
    return this.#mapped.get(name)?.[0] ?? this.#raw.get(name)?.[0];
  }

  /** Every (name, value), `header_map` lines only for names `headers` does not carry (Envoy sends one or the other). */
  *entries(): Iterable<[string, string]> {
    for (const [name, values] of this.#mapped) for (const value of values) yield [name, value];
    for (const [name, values] of this.#raw) if (!this.#mapped.has(name)) for (const value of values) yield [name, value];
  }

  names(): string[] {
    return [...new Set([...this.#mapped.keys(), ...this.#raw.keys()])];
  }

  /** The one `authorization` value, '' when none, or a refusal when the request carries two. */
  authorization(): string | TokenRefusal {
    const mapped = this.#mapped.get('authorization') ?? [];
    const raw = this.#raw.get('authorization') ?? [];
    // Envoy joins a repeated header into one `headers` value with ","; no bearer token holds a comma.
    const twice =
      mapped.length > 1 ||
      raw.length > 1 ||
      [...mapped, ...raw].some((v) => v.includes(',')) ||
      (mapped[0] ?? raw[0]) !== (raw[0] ?? mapped[0]);
    if (twice) {
      return {
        valid: false,
        reason: 'TOKEN_MALFORMED',
        message: 'the request carries more than one authorization header; send exactly one',
      };
    }
    return mapped[0] ?? raw[0] ?? '';
  }
}

function add(headers: Map<string, string[]>, key: string, value: string): void {
  const name = key.toLowerCase();
  const values = headers.get(name);
  if (values) values.push(value);
  else headers.set(name, [value]);
}
