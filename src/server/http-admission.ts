/**
 * The HTTP side of admission control (admission.ts): a forward (`/v1/authz`) takes a slot until its answer is
 * written (or its client goes away). One finding every slot taken gets 503 with `Retry-After` at once, so the proxy may try another replica.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { enterOnce, OVERLOADED_MESSAGE, type Admission } from './admission.js';
import { REASON_HEADER } from './http-answer.js';
import { WIRE_REASONS } from './http-limits.js';

/** Seconds a shed caller is told to wait before it retries here: overload passes in about that long, or it alerts. */
export const RETRY_AFTER_SECONDS = 1;

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

export function admittedHandler(admission: Admission, handler: Handler): Handler {
  return (req, res) => {
    const release = enterOnce(admission, 'http');
    if (!release) {
      const body = `${WIRE_REASONS.overloaded}: ${OVERLOADED_MESSAGE}\n`;
      res
        .writeHead(503, {
          [REASON_HEADER]: WIRE_REASONS.overloaded,
          'retry-after': String(RETRY_AFTER_SECONDS),
          'cache-control': 'no-store',
          'content-type': 'text/plain; charset=utf-8',
          'content-length': Buffer.byteLength(body),
        })
        .end(body);
      return;
    }
    // The slot bounds work, not send buffers: it goes back once the answer is written (end), or when the client
    // goes away first ('close'); a client that pipelines and never reads must not hold slots for its unread answers.
    // Most forwards are answered before the handler returns (a cached decision): their slot goes back at once, with
    // no listener and no wrapped `end` to pay for.
    try {
      handler(req, res);
    } finally {
      if (res.writableEnded) release();
      else releaseOnEnd(res, release);
    }
  };
}

function releaseOnEnd(res: ServerResponse, release: () => void): void {
  // Gone already (its 'close' emitted while the handler ran): nothing will end it.
  if (res.closed) {
    release();
    return;
  }
  res.once('close', release);
  const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
  res.end = ((...args: unknown[]) => {
    release();
    return end(...args);
  }) as typeof res.end;
}
