// Forward auth reads its headers from `rawHeaders` in one pass (forwarded-request.ts readHeaders) instead of node's
// `headersDistinct`. Through a real node:http server on port 0, for generated header blocks (every name it reads,
// in any case, repeated or not, among others): the same values for every name it reads, and nothing else.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { readHeaders } from '../../src/server/forwarded-request.js';
import { MAX_HEADERS_COUNT } from '../../src/server/http-limits.js';

const READ = ['authorization', 'x-original-method', 'x-original-uri', 'x-forwarded-method', 'x-forwarded-uri', 'x-request-id', 'host'];
const OTHERS = [
  'accept',
  'x-forwarded-host',
  'x-original-host',
  'user-agent',
  'x-authorization',
  'authorizations',
  'hostname',
  '__proto__',
  'constructor',
];

let server: ReturnType<typeof createServer>;
let port = 0;
let seen: ((req: IncomingMessage) => void) | undefined;

before(async () => {
  // As gatehouse's own listener: a request without Host reaches the handler (forward auth refuses it itself).
  server = createServer({ requireHostHeader: false }, (req, res) => {
    seen?.(req);
    res.writeHead(204, { connection: 'close' }).end();
  });
  server.maxHeadersCount = MAX_HEADERS_COUNT;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
after(() => server.close());

/** Sends `lines` as one request's header block; resolves with what the server saw. */
function received(lines: readonly [string, string][]): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    seen = resolve;
    const socket = connect(port, '127.0.0.1', () => {
      socket.end(`GET /v1/authz HTTP/1.1\r\n${lines.map(([n, v]) => `${n}: ${v}\r\n`).join('')}\r\n`);
    });
    socket.on('error', reject).resume();
    // Refused by node:http before any handler (never expected here): fail, don't hang.
    socket.on('end', () => reject(new Error(`no request reached the server for ${JSON.stringify(lines)}`)));
  });
}

const anyCase = (name: string) =>
  fc
    .array(fc.boolean(), { minLength: name.length, maxLength: name.length })
    .map((upper) => [...name].map((c, i) => (upper[i] ? c.toUpperCase() : c)).join(''));
const value = fc.stringMatching(/^[!-~]([ -~]{0,20}[!-~])?$/);
const line = fc.tuple(fc.constantFrom(...READ, ...OTHERS).chain(anyCase), value);

describe('readHeaders', () => {
  it('reads what headersDistinct has, for the names forward auth reads, and nothing else', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(line, { maxLength: 12 }), async (lines) => {
        const req = await received(lines);
        const read = readHeaders(req.rawHeaders);
        for (const name of READ) assert.deepEqual(read[name], req.headersDistinct[name], name);
        assert.deepEqual(
          Object.keys(read).filter((n) => !READ.includes(n)),
          [],
        );
      }),
      { numRuns: 150 },
    );
  });

  it('keeps every value of a repeated header, in order, whatever the case of its name', () => {
    const read = readHeaders(['Authorization', 'Bearer a', 'X-Original-URI', '/a', 'authorization', 'Bearer b', 'Accept', '*/*']);
    assert.deepEqual(read.authorization, ['Bearer a', 'Bearer b']);
    assert.deepEqual(read['x-original-uri'], ['/a']);
    assert.equal(read.accept, undefined);
  });

  it('stops where headersDistinct does, at server.maxHeadersCount headers', async () => {
    const padding = Array.from({ length: MAX_HEADERS_COUNT }, (_, i): [string, string] => [`x-pad-${i}`, 'v']);
    const lines: [string, string][] = [['X-Request-Id', 'early'], ...padding, ['X-Request-Id', 'late']];
    // Whatever node does with the block, readHeaders reads no further than server.maxHeadersCount headers.
    assert.deepEqual(readHeaders(lines.flat())['x-request-id'], ['early']);
    const req = await received(lines).catch((err: Error) => err);
    if (req instanceof Error) {
      // Node 22 refuses a block past server.maxHeadersCount itself (HPE_HEADER_OVERFLOW, 431): no handler runs.
      assert.match(req.message, /^no request reached the server/);
      assert.ok(Number(process.versions.node.split('.')[0]) >= 22, `node ${process.version} refused the block`);
      return;
    }
    // Node 20 hands the whole block to the handler and counts only maxHeadersCount of it.
    assert.ok(req.rawHeaders.length > 2 * MAX_HEADERS_COUNT, 'node kept more raw headers than it counts');
    assert.deepEqual(readHeaders(req.rawHeaders)['x-request-id'], ['early']);
    assert.deepEqual(req.headersDistinct['x-request-id'], ['early']);
  });
});
