/**
 * What a proxy's forward-auth subrequest says about the original request: its bearer token, method and URI.
 * nginx configs set `X-Original-Method` / `X-Original-URI`; Caddy and Traefik send `X-Forwarded-Method` /
 * `X-Forwarded-Uri`. A client can add the family its proxy does not set, so which one to believe is a setting
 * (`proxy.forwarded_headers`), and a forward that is ambiguous is refused, never guessed at: two values of one
 * header, two families that disagree, no original URI, a value with control characters. Pure: headers in, verdict out.
 */
import { MAX_HEADERS_COUNT } from './http-limits.js';

/** `proxy.forwarded_headers`: both families (they must agree when both come), or only one (the other is refused). */
export type ForwardedHeaders = 'any' | 'original' | 'forwarded';

/** The headers of a request as node:http gives them in `headersDistinct`: lower-cased, every value kept. */
export type DistinctHeaders = Readonly<Record<string, readonly string[] | undefined>>;

/** Every header forward auth reads before it decides, lower case. */
const READ_NAMES: ReadonlySet<string> = new Set([
  'authorization',
  'x-original-method',
  'x-original-uri',
  'x-forwarded-method',
  'x-forwarded-uri',
  'x-request-id',
  'host',
  'content-length',
  'transfer-encoding',
]);

/**
 * The headers forward auth reads, from node:http's `rawHeaders` in one pass, as `headersDistinct` has them
 * (lower-cased names, every value kept, the first `server.maxHeadersCount` headers only), but only those of
 * {@link READ_NAMES}: `headersDistinct` is built for every header of the request, each name lower-cased and each
 * value in an array of its own, on every call.
 */
export function readHeaders(raw: readonly string[]): DistinctHeaders {
  const headers: Record<string, string[]> = {};
  // rawHeaders may run past maxHeadersCount (node cuts it later, in batches); headersDistinct stops there.
  const end = Math.min(raw.length, 2 * MAX_HEADERS_COUNT);
  for (let i = 0; i + 1 < end; i += 2) {
    let name = raw[i]!;
    if (!READ_NAMES.has(name)) {
      name = name.toLowerCase();
      if (!READ_NAMES.has(name)) continue;
    }
    const value = raw[i + 1]!;
    const values = headers[name];
    if (values) values.push(value);
    else headers[name] = [value];
  }
  return headers;
}

export type Forward =
  | { readonly ok: true; readonly token: string; readonly method: string; readonly uri: string }
  | { readonly ok: false; readonly problem: string };

interface Family {
  readonly name: 'original' | 'forwarded';
  readonly method: string;
  readonly uri: string;
}

const FAMILIES: readonly Family[] = [
  { name: 'original', method: 'x-original-method', uri: 'x-original-uri' },
  { name: 'forwarded', method: 'x-forwarded-method', uri: 'x-forwarded-uri' },
];

/** An HTTP method is a token (RFC 9110 §5.6.2); the engine then insists on upper case. */
const METHOD_TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,32}$/;
/** A request target as a proxy forwards it: printable ASCII, no space (anything else was never on a request line). */
const PRINTABLE = /^[\x21-\x7e]*$/;
// eslint-disable-next-line no-control-regex -- control characters are exactly what this refuses
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f]/;

/**
 * Reads the forward. The original method must be forwarded too: the subrequest's own method says nothing (nginx's
 * `auth_request` subrequest is a GET whatever the client sent, and so are Caddy's and Traefik's).
 */
export function readForward(headers: DistinctHeaders, mode: ForwardedHeaders): Forward {
  const authorization = headers.authorization ?? [];
  if (authorization.length > 1) return refused('the request carries more than one Authorization header');
  const token = authorization[0] ?? '';
  if (CONTROL.test(token)) return refused('the Authorization header holds a control character');

  // Per call, so without a Map or filtered arrays: first every header of both families at most once, then which
  // families came (one outside proxy.forwarded_headers is refused).
  for (const family of FAMILIES) {
    if ((headers[family.method]?.length ?? 0) > 1) return refused(`the request carries more than one ${display(family.method)} header`);
    if ((headers[family.uri]?.length ?? 0) > 1) return refused(`the request carries more than one ${display(family.uri)} header`);
  }
  let believed: Family | undefined;
  let second: Family | undefined;
  for (const family of FAMILIES) {
    if (!headers[family.method]?.length && !headers[family.uri]?.length) continue;
    if (mode !== 'any' && family.name !== mode) {
      return refused(
        `the request carries ${display(family.uri)} or ${display(family.method)}, and proxy.forwarded_headers trusts only the ${mode} family`,
      );
    }
    if (believed) second = family;
    else believed = family;
  }
  if (believed && second) {
    const [a, b] = [believed, second];
    if (headers[a.method]?.[0] !== headers[b.method]?.[0] || headers[a.uri]?.[0] !== headers[b.uri]?.[0]) {
      return refused(
        `the ${display(a.uri)}/${display(a.method)} and ${display(b.uri)}/${display(b.method)} headers disagree (a client may have added one family)`,
      );
    }
  }
  const uri = believed ? headers[believed.uri]?.[0] : undefined;
  if (uri === undefined) return refused(`the original URI is missing: the proxy must send ${expected(mode)}`);
  const family = believed!;
  const uriName = display(family.uri);
  if (uri === '') return refused(`${uriName} is empty`);
  if (!PRINTABLE.test(uri)) return refused(`${uriName} holds a control character, whitespace or a byte outside printable ASCII`);
  if (!uri.startsWith('/')) return refused(`${uriName} is not a path (an absolute URI or "*" is never forwarded)`);
  // A client never sends a fragment; one in a forwarded URI is smuggling a path past the rules (http-action.ts).
  if (uri.includes('#')) return refused(`${uriName} holds a "#" (a fragment is never sent)`);
  const method = headers[family.method]?.[0];
  if (method === undefined) return refused(`the original method is missing: the proxy must send ${display(family.method)} with ${uriName}`);
  if (!METHOD_TOKEN.test(method)) return refused(`${display(family.method)} is not an HTTP method`);
  return { ok: true, token, method, uri };
}

function refused(problem: string): Forward {
  return { ok: false, problem };
}

function expected(mode: ForwardedHeaders): string {
  if (mode === 'original') return 'X-Original-URI';
  if (mode === 'forwarded') return 'X-Forwarded-Uri';
  return 'X-Original-URI (nginx) or X-Forwarded-Uri (Caddy, Traefik)';
}

const DISPLAY: Readonly<Record<string, string>> = {
  'x-original-method': 'X-Original-Method',
  'x-original-uri': 'X-Original-URI',
  'x-forwarded-method': 'X-Forwarded-Method',
  'x-forwarded-uri': 'X-Forwarded-Uri',
};

function display(name: string): string {
  return DISPLAY[name] ?? name;
}
