/**
 * What a proxy's forward-auth subrequest says about the original request: its bearer token, method and URI.
 * nginx configs set `X-Original-Method` / `X-Original-URI`; Caddy and Traefik send `X-Forwarded-Method` /
 * `X-Forwarded-Uri`. A client can add the family its proxy does not set, so which one to believe is a setting
 * (`proxy.forwarded_headers`), and a forward that is ambiguous is refused, never guessed at: two values of one
 * header, two families that disagree, no original URI, a value with control characters. Pure: headers in, verdict out.
 */

/** `proxy.forwarded_headers`: both families (they must agree when both come), or only one (the other is refused). */
export type ForwardedHeaders = 'any' | 'original' | 'forwarded';

/** The headers of a request as node:http gives them in `headersDistinct`: lower-cased, every value kept. */
export type DistinctHeaders = Readonly<Record<string, readonly string[] | undefined>>;

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

  const values = new Map<string, string>();
  for (const family of FAMILIES) {
    for (const name of [family.method, family.uri]) {
      const all = headers[name];
      if (!all || all.length === 0) continue;
      if (all.length > 1) return refused(`the request carries more than one ${display(name)} header`);
      values.set(name, all[0]!);
    }
  }
  const present = FAMILIES.filter((f) => values.has(f.method) || values.has(f.uri));
  const believed = present.filter((f) => mode === 'any' || f.name === mode);
  const other = present.find((f) => mode !== 'any' && f.name !== mode);
  if (other) {
    return refused(
      `the request carries ${display(other.uri)} or ${display(other.method)}, and proxy.forwarded_headers trusts only the ${mode} family`,
    );
  }
  if (believed.length === 2) {
    const [a, b] = believed as [Family, Family];
    if (values.get(a.method) !== values.get(b.method) || values.get(a.uri) !== values.get(b.uri)) {
      return refused(
        `the ${display(a.uri)}/${display(a.method)} and ${display(b.uri)}/${display(b.method)} headers disagree (a client may have added one family)`,
      );
    }
  }
  const family = believed[0];
  const uri = family ? values.get(family.uri) : undefined;
  if (uri === undefined) return refused(`the original URI is missing: the proxy must send ${expected(mode)}`);
  const uriName = display(family!.uri);
  if (uri === '') return refused(`${uriName} is empty`);
  if (!PRINTABLE.test(uri)) return refused(`${uriName} holds a control character, whitespace or a byte outside printable ASCII`);
  if (!uri.startsWith('/')) return refused(`${uriName} is not a path (an absolute URI or "*" is never forwarded)`);
  // A client never sends a fragment; one in a forwarded URI is smuggling a path past the rules (http-action.ts).
  if (uri.includes('#')) return refused(`${uriName} holds a "#" (a fragment is never sent)`);
  const method = values.get(family!.method);
  if (method === undefined)
    return refused(`the original method is missing: the proxy must send ${display(family!.method)} with ${uriName}`);
  if (!METHOD_TOKEN.test(method)) return refused(`${display(family!.method)} is not an HTTP method`);
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
