/**
 * Action patterns: which calls a rule speaks for, compiled once at config load.
 *
 * An action is a gRPC method (`/orders.v1.Orders/GetOrder`) or a custom action without any `/`
 * (`orders:read`). A pattern is split on `/` into segments; a `*` may only end a segment and stands
 * for any run of characters other than `/`, so it never crosses into the next segment:
 *
 *   /orders.v1.Orders/GetOrder   exact
 *   /orders.v1.Orders/Get*       methods starting with Get
 *   /orders.v1.Orders/*          every method of the service
 *   /orders.v1.*\/GetOrder        GetOrder in any service whose name starts with `orders.v1.`
 *   orders:*                     custom actions starting with `orders:`
 *   GET /orders/*                an HTTP request: its method, then its path (any depth; see http-action.ts)
 *   * /health                    an HTTP request with any method
 *   *                            everything (catch-all)
 *   GET /users/{user}/orders/*   a named segment: matches like `*` in that one segment and binds `params.user`
 *                                for the rule's `when` condition (path-params.ts)
 *
 * A matched segment is never empty: `/orders.v1.Orders/*` does not match `/orders.v1.Orders/`.
 * No regular expressions are built from config, so a pattern can never inject one.
 */

/** One `/`-separated part of a pattern: `text`, followed by `*` when `wildcard`; `param` names a `{name}` segment. */
export interface Segment {
  readonly text: string;
  readonly wildcard: boolean;
  /** Set on a named segment `{name}` (text '', wildcard true): the key it binds in `params`. */
  readonly param?: string;
}

import { refuseNonCanonical } from './http-action.js';

/** A compiled action pattern. */
export interface ActionPattern {
  /** The pattern as written in config. */
  readonly source: string;
  /** `any`: the catch-all `*`; `exact`: no wildcard; `wildcard`: at least one segment ends in `*`. */
  readonly kind: 'any' | 'exact' | 'wildcard';
  readonly segments: readonly Segment[];
  /** True when some segment is named (`{name}`): a matched action binds params (path-params.ts). */
  readonly named: boolean;
  matches(action: string): boolean;
}

/** A pattern that cannot be compiled. The message says why, and is meant for the operator. */
export class PatternError extends Error {
  override readonly name = 'PatternError';
  readonly code = 'ERR_ACTION_PATTERN';
}

// `{name}`, a whole segment; the name is an identifier, so that `params.name` reads it in CEL.
const NAMED_SEGMENT = /^\{([A-Za-z_][A-Za-z0-9_]*)\}$/;

const SERVICE_CHARS = /^[A-Za-z0-9_.]*$/;
const METHOD_CHARS = /^[A-Za-z0-9_]*$/;

// `<METHOD> <path>`: upper-case letters or `*`, one space, then a path.
const HTTP_PATTERN = /^(\*|[A-Z]+) (\/.*)$/;

/** Compiles `source`, or throws a {@link PatternError} saying what is wrong with it. */
export function compilePattern(source: string): ActionPattern {
  const http = HTTP_PATTERN.exec(source);
  if (http) return compileHttpPattern(source, http[1]!, http[2]!);
  const segments = parseSegments(source);
  const named = isNamed(segments);
  if (source === '*') return { source, kind: 'any', segments, named, matches: () => true };
  if (!segments.some((s) => s.wildcard)) return { source, kind: 'exact', segments, named, matches: (a) => a === source };
  return { source, kind: 'wildcard', segments, named, matches: wildcardMatcher(source, segments) };
}

function isNamed(segments: readonly Segment[]): boolean {
  return segments.some((s) => s.param !== undefined);
}

/**
 * An HTTP pattern's segments are its method (`*`: any) followed by its path's `/`-separated segments, so that
 * {@link covers} compares HTTP patterns like any other; an HTTP pattern never covers, nor is covered by, another kind.
 */
function compileHttpPattern(source: string, method: string, path: string): ActionPattern {
  const pathSegments = splitSegments(source, path);
  // What the pattern can match must be canonical, or the rule could never decide (the engine refuses the rest).
  const sample = path.replace(/\*|\{[^/]*\}/g, 'x');
  if (path.includes('%')) invalid(source, 'write the path decoded: a pattern holds no "%"');
  const why = refuseNonCanonical(`GET ${sample}`);
  if (why) invalid(source, `can never match: ${why.replace('the request path', 'the path')}`);
  const segments = [{ text: method === '*' ? '' : method, wildcard: method === '*' }, ...pathSegments];
  const named = isNamed(segments);
  if (!segments.some((s) => s.wildcard)) return { source, kind: 'exact', segments, named, matches: (a) => a === source };
  return {
    source,
    kind: 'wildcard',
    segments,
    named,
    matches: (action) => {
      const space = action.indexOf(' ');
      if (space === -1) return false;
      if (method !== '*' ? space !== method.length || !action.startsWith(method) : space === 0) return false;
      return matchSegments(pathSegments, action, space + 1);
    },
  };
}

function splitSegments(source: string, text: string): Segment[] {
  if (/\s/.test(text)) invalid(source, 'contains whitespace, which no action does');
  if (text.includes('**')) invalid(source, '"**" is not supported: "*" already matches a whole segment and never crosses "/"');
  const names = new Set<string>();
  return text.split('/').map((part): Segment => {
    if (part.includes('{') || part.includes('}')) return namedSegment(source, part, names);
    const star = part.indexOf('*');
    if (star === -1) return { text: part, wildcard: false };
    if (star !== part.length - 1) invalid(source, '"*" may only end a segment ("Get*"), not sit inside one ("Get*Order")');
    return { text: part.slice(0, -1), wildcard: true };
  });
}

function namedSegment(source: string, part: string, names: Set<string>): Segment {
  const name = NAMED_SEGMENT.exec(part)?.[1];
  if (name === undefined) {
    invalid(source, `a named segment is a whole segment "{name}", the name an identifier (letters, digits, _), got "${part}"`);
  }
  if (names.has(name)) invalid(source, `the segment name "${name}" is used twice`);
  names.add(name);
  return { text: '', wildcard: true, param: name };
}

function parseSegments(source: string): Segment[] {
  if (source === '') invalid(source, 'empty pattern');
  if (/\s/.test(source)) {
    invalid(source, 'contains whitespace, which no action does (an HTTP request is "<METHOD> <path>": "GET /orders/*")');
  }
  const segments = splitSegments(source, source);
  if (!source.startsWith('/')) {
    // A custom action never holds "/"; "orders.v1.Orders/Get" is a gRPC method missing its leading "/".
    if (segments.length > 1) invalid(source, `custom actions contain no "/"; a gRPC method pattern starts with "/" (/${source})`);
    if (isNamed(segments)) invalid(source, 'a custom action has no segments to name; use "*"');
    return segments;
  }
  const [, service, method] = segments;
  if (segments.length !== 3 || !service || !method) {
    invalid(source, 'a gRPC method pattern is /package.Service/Method, with exactly two "/"');
  }
  checkGrpcSegments(source, service, method);
  return segments;
}

function checkGrpcSegments(source: string, service: Segment, method: Segment): void {
  if (!service.wildcard && service.text === '') invalid(source, 'the service name is empty');
  if (!method.wildcard && method.text === '') invalid(source, 'the method name is empty');
  if (!SERVICE_CHARS.test(service.text) || service.text.startsWith('.') || service.text.includes('..')) {
    invalid(source, 'can never match a gRPC method: a service name is dot-separated letters, digits and _');
  }
  if (!service.wildcard && service.text.endsWith('.')) invalid(source, 'can never match a gRPC method: the service name ends with "."');
  if (!METHOD_CHARS.test(method.text)) invalid(source, 'can never match a gRPC method: a method name is letters, digits and _');
}

function invalid(source: string, why: string): never {
  throw new PatternError(`${JSON.stringify(source)}: ${why}`);
}

function wildcardMatcher(source: string, segments: readonly Segment[]): (action: string) => boolean {
  const last = segments[segments.length - 1] as Segment;
  if (last.param === undefined && segments.slice(0, -1).every((s) => !s.wildcard)) {
    // Only the last segment is open: a prefix test with no "/" after it, no splitting needed.
    const prefix = source.slice(0, -1);
    const needsMore = last.text === '';
    return (a) => a.startsWith(prefix) && a.indexOf('/', prefix.length) === -1 && (!needsMore || a.length > prefix.length);
  }
  return (a) => matchSegments(segments, a);
}

/** Walks the action (from `from`) segment by segment without allocating. */
export function matchSegments(segments: readonly Segment[], action: string, from = 0): boolean {
  let start = from;
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i] as Segment;
    const slash = action.indexOf('/', start);
    const isLast = i === segments.length - 1;
    if (isLast !== (slash === -1)) return false;
    const end = isLast ? action.length : slash;
    const length = end - start;
    if (!action.startsWith(seg.text, start)) return false;
    // startsWith already proved the segment holds at least seg.text (which has no "/").
    if (seg.wildcard ? length === 0 : length !== seg.text.length) return false;
    start = end + 1;
  }
  return true;
}

/** True when every action `inner` matches is also matched by `outer`; used to find unreachable rules. */
export function covers(outer: ActionPattern, inner: ActionPattern): boolean {
  if (outer.kind === 'any') return true;
  if (inner.kind === 'any' || outer.segments.length !== inner.segments.length) return false;
  if (HTTP_PATTERN.test(outer.source) !== HTTP_PATTERN.test(inner.source)) return false;
  return outer.segments.every((o, i) => {
    const n = inner.segments[i] as Segment;
    if (!o.wildcard) return !n.wildcard && n.text === o.text;
    // A matched segment is never empty, so an exact inner segment must be too.
    return n.text.startsWith(o.text) && (n.wildcard || n.text !== '');
  });
}

interface Entry {
  readonly rule: number;
  readonly pattern: ActionPattern;
}

/**
 * Finds the first rule (in config order) with a pattern that matches an action, without testing
 * every pattern: exact patterns are one Map lookup, gRPC patterns with a fixed service are looked
 * up by service, and only the rest (catch-alls, service wildcards, custom prefixes) are scanned.
 */
export class ActionIndex {
  readonly #exact = new Map<string, number>();
  readonly #byService = new Map<string, Entry[]>();
  readonly #scan: Entry[] = [];

  /** `patternsByRule[i]` are the patterns of rule i. */
  constructor(patternsByRule: readonly (readonly ActionPattern[])[]) {
    patternsByRule.forEach((patterns, rule) => {
      for (const pattern of patterns) {
        const service = pattern.segments.length === 3 ? pattern.segments[1] : undefined;
        if (pattern.kind === 'exact') {
          if (!this.#exact.has(pattern.source)) this.#exact.set(pattern.source, rule);
        } else if (pattern.kind === 'wildcard' && pattern.source.startsWith('/') && service && !service.wildcard) {
          const bucket = this.#byService.get(service.text) ?? [];
          bucket.push({ rule, pattern });
          this.#byService.set(service.text, bucket);
        } else {
          this.#scan.push({ rule, pattern });
        }
      }
    });
  }

  /** The index of the first rule that matches `action`, or -1. */
  firstMatch(action: string): number {
    let best = this.#exact.get(action) ?? Infinity;
    const bucket = this.#byService.get(serviceOf(action));
    if (bucket) best = firstIn(bucket, action, best);
    best = firstIn(this.#scan, action, best);
    return best === Infinity ? -1 : best;
  }
}

/** Entries are in rule order, so the scan stops as soon as it cannot beat `bound`. */
function firstIn(entries: readonly Entry[], action: string, bound: number): number {
  for (const entry of entries) {
    if (entry.rule >= bound) return bound;
    if (entry.pattern.matches(action)) return entry.rule;
  }
  return bound;
}

function serviceOf(action: string): string {
  if (!action.startsWith('/')) return '';
  const slash = action.indexOf('/', 1);
  return slash === -1 ? '' : action.slice(1, slash);
}
