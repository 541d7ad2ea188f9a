/**
 * HTTP forward auth (`/v1/authz` on the `server.http` listener): nginx `auth_request`, Caddy `forward_auth` and
 * Traefik `forwardAuth` ask here before they pass a request upstream. A thin door over the one engine: the same
 * rules, decision cache, reasons, metrics (door="http") and audit line as Authorize. 200 with every identity header
 * allows; anything else refuses (nginx turns a status other than 2xx, 401 and 403 into a 500, still a refusal).
 * A body is never read: a request announcing one is refused (413).
 */
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import { requestIdFrom } from '../contract/request-id.js';
import type { Authorizer } from '../decisions/authorizer.js';
import type { AuthorizeOutcome } from '../decisions/outcome.js';
import { httpAction } from '../policy/http-action.js';
import { readForward, readHeaders, type DistinctHeaders, type ForwardedHeaders } from './forwarded-request.js';
import { allowedHeaders, denialStatus, REASON_HEADER, wwwAuthenticate } from './http-answer.js';
import { MAX_ACTION_LENGTH } from './request-limits.js';
import { MAX_REQUEST_HEADERS, WIRE_REASONS } from './http-limits.js';
import type { DecisionHooks } from './telemetry-hooks.js';
import type { Facts } from '../policy/condition-variables.js';
import { requestFacts } from './request-facts.js';

export const FORWARD_AUTH_PATH = '/v1/authz';

export interface ForwardAuthDeps {
  /** Read per request, so a reload can swap it. */
  readonly authorizer: () => Authorizer;
  readonly hooks: DecisionHooks;
  /** True once shutdown refuses new calls: forwards get 503, never an allow. */
  readonly shuttingDown: () => boolean;
  /** proxy.forwarded_headers, read per request (a reload applies it at once). */
  readonly forwardedHeaders: () => ForwardedHeaders;
  /** A forward refused before the engine was asked (the proxy or a client sent something ambiguous). */
  readonly onMalformed: (problem: string, requestId: string) => void;
}

/** The handler of `/v1/authz`, any method. */
export function forwardAuthHandler(deps: ForwardAuthDeps): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const headers = readHeaders(req.rawHeaders);
    const ids = headers['x-request-id'];
    const requestId = requestIdFrom(ids?.length === 1 ? ids[0] : undefined);
    // Fail closed: an exception anywhere on the path is a refusal, with a fixed message.
    const failed = (err: unknown): void => {
      deps.hooks.onInternalError(`HTTP ${FORWARD_AUTH_PATH}`, err, requestId);
      refuse(res, requestId, 500, WIRE_REASONS.internal, 'internal error');
    };
    try {
      handle(deps, req, res, headers, requestId)?.catch(failed);
    } catch (err) {
      failed(err);
    }
  };
}

/** Answers at once when the engine can (a cached decision); a promise only while a token is being verified. */
function handle(
  deps: ForwardAuthDeps,
  req: IncomingMessage,
  res: ServerResponse,
  headers: DistinctHeaders,
  requestId: string,
): Promise<void> | void {
  if (deps.shuttingDown()) {
    refuse(res, requestId, 503, WIRE_REASONS.shuttingDown, 'gatehouse is shutting down; retry on another replica');
    return;
  }
  // node:http drops headers past server.maxHeadersCount silently, and a dropped one could be the forwarded URI.
  if (req.rawHeaders.length / 2 > MAX_REQUEST_HEADERS) {
    refuse(res, requestId, 431, WIRE_REASONS.headersTooLarge, `the request carries more than ${MAX_REQUEST_HEADERS} headers`);
    return;
  }
  // Proxies send none (nginx: proxy_pass_request_body off). One sent anyway is not read, and its connection is closed.
  if (announcesBody(headers)) {
    res.setHeader('connection', 'close');
    deps.onMalformed('the request has a body', requestId);
    refuse(res, requestId, 413, WIRE_REASONS.malformed, 'forward auth reads no body: send the headers only');
    return;
  }
  // HTTP/1.1 requires exactly one Host (RFC 9112 §3.2); a request without one did not come from a proxy.
  if (req.httpVersionMajor === 1 && req.httpVersionMinor >= 1 && headers.host?.length !== 1) {
    return malformed(deps, res, 'the request has no Host header, or more than one', requestId);
  }
  const forward = readForward(headers, deps.forwardedHeaders());
  if (!forward.ok) return malformed(deps, res, forward.problem, requestId);
  const action = httpAction(forward.method, forward.uri);
  if (action.length > MAX_ACTION_LENGTH) {
    return malformed(deps, res, `the method and path are longer than ${MAX_ACTION_LENGTH} characters`, requestId);
  }
  // Attributes: none (a forward has no trusted place for them); the request only if a condition reads it.
  const facts: Facts = { request: () => forwardedRequestFacts(req, forward.method, forward.uri) };
  const started = performance.now();
  const decided = (outcome: AuthorizeOutcome): void => {
    deps.hooks.onAuthorize(action, outcome, (performance.now() - started) / 1000, requestId, 'http');
    answer(res, requestId, outcome);
  };
  const outcome = deps.authorizer().answer(forward.token, action, facts);
  if (outcome instanceof Promise) return outcome.then(decided);
  decided(outcome);
}

/**
 * Every answer's headers in one writeHead, none set before: node:http then takes the object as it is, where a header
 * set earlier sends it down its slower path (each header of the object set, and checked, one by one).
 */
function answer(res: ServerResponse, requestId: string, outcome: AuthorizeOutcome): void {
  if (outcome.allowed) {
    res.writeHead(200, { 'x-request-id': requestId, 'cache-control': 'no-store', ...allowedHeaders(outcome.principal) }).end();
    return;
  }
  const challenge = wwwAuthenticate(outcome.reason, outcome.message, outcome.challenge);
  refuse(res, requestId, denialStatus(outcome.reason, outcome.challenge), outcome.reason, outcome.message, challenge);
}

function malformed(deps: ForwardAuthDeps, res: ServerResponse, problem: string, requestId: string): void {
  deps.onMalformed(problem, requestId);
  refuse(res, requestId, 400, WIRE_REASONS.malformed, problem);
}

function refuse(res: ServerResponse, requestId: string, status: number, reason: string, message: string, challenge?: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = `${reason}: ${message.replace(/[^\x20-\x7e]/g, '')}\n`;
  // The reason phrase named: a writeHead that threw (a header value node:http refused) leaves its own behind for this one.
  res.writeHead(status, STATUS_CODES[status], {
    'x-request-id': requestId,
    'cache-control': 'no-store',
    ...(challenge ? { 'www-authenticate': challenge } : {}),
    [REASON_HEADER]: reason,
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

/** The host the proxy forwarded (X-Forwarded-Host, else X-Original-Host), else the Host it asked gatehouse on. */
function forwardedRequestFacts(req: IncomingMessage, method: string, uri: string) {
  const pairs: [string, string][] = [];
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) pairs.push([req.rawHeaders[i]!, req.rawHeaders[i + 1]!]);
  const first = (name: string) => req.headersDistinct[name]?.[0];
  return requestFacts(method, uri, first('x-forwarded-host') ?? first('x-original-host') ?? first('host') ?? '', pairs);
}

function announcesBody(headers: DistinctHeaders): boolean {
  const length = headers['content-length'];
  return headers['transfer-encoding'] !== undefined || (length !== undefined && !(length.length === 1 && length[0] === '0'));
}
