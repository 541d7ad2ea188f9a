/**
 * What one request on the `server.http` listener may hold, and the answer to one that node:http could not parse.
 * Bad input gets a status and `X-Gatehouse-Reason`, its connection is closed, and the listener keeps serving.
 */
import type { Duplex } from 'node:stream';
import { REASON_HEADER } from './http-answer.js';

/** Header lines per request (Apache's LimitRequestFields). More are refused with 431, never silently dropped. */
export const MAX_REQUEST_HEADERS = 100;
/** The listener's server.maxHeadersCount: one more than forward auth accepts, so that one too many is seen. */
export const MAX_HEADERS_COUNT = MAX_REQUEST_HEADERS + 1;

/** Room for everything but the token in a forwarded request's headers (cookies, X-Forwarded-*, tracing). */
const HEADER_BYTES_BESIDES_TOKEN = 16 * 1024;

/** The header block's byte bound: a token of `tokens.max_bytes` still fits, and never less than 32 KiB. */
export function maxHeaderBytes(tokenMaxBytes: number): number {
  return Math.max(32 * 1024, tokenMaxBytes + HEADER_BYTES_BESIDES_TOKEN);
}

/**
 * `X-Gatehouse-Reason` values of refusals the engine did not make (they are no `gatehouse.v1.Reason`): a forward
 * that is ambiguous or malformed, headers over the limits, shutdown, overload (server.max_inflight), and a bug.
 */
export const WIRE_REASONS = {
  malformed: 'FORWARD_MALFORMED',
  headersTooLarge: 'HEADERS_TOO_LARGE',
  shuttingDown: 'SHUTTING_DOWN',
  overloaded: 'OVERLOADED',
  timeout: 'REQUEST_TIMEOUT',
  internal: 'INTERNAL',
} as const;

/** node:http's `clientError`: the request could not be parsed (or timed out); answer it plainly and close. */
export function answerClientError(err: Error & { code?: string }, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const [status, text, reason] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'Request Header Fields Too Large', WIRE_REASONS.headersTooLarge]
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'Request Timeout', WIRE_REASONS.timeout]
        : [400, 'Bad Request', WIRE_REASONS.malformed];
  const body = `${reason}: ${text}\n`;
  socket.end(
    `HTTP/1.1 ${status} ${text}\r\n${REASON_HEADER}: ${reason}\r\ncontent-type: text/plain\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`,
  );
}
