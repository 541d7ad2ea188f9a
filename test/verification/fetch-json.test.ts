// The network edge of the core: documents over the size limit are refused while streaming, whatever
// Content-Length says; errors and timeouts become FetchErrors.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { fetchJson, FetchError } from '../../src/verification/fetch-json.js';

describe('fetchJson', () => {
  let server: Server;
  let base: string;
  let bytesSent = 0;
  before(async () => {
    server = createServer((req, res) => {
      if (req.url === '/endless') {
        // No Content-Length, and a body that never ends: the reader must stop at the limit.
        res.writeHead(200, { 'content-type': 'application/json' });
        const chunk = Buffer.alloc(64 * 1024, 0x20);
        const pump = () => {
          while (res.write(chunk)) bytesSent += chunk.length;
          bytesSent += chunk.length;
        };
        res.on('drain', pump);
        pump();
        return;
      }
      if (req.url === '/ok') return res.writeHead(200, { 'content-type': 'application/json' }).end('{"keys":[]}');
      res.writeHead(500).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  it('reads a JSON object', async () => {
    assert.deepEqual(await fetchJson(fetch, `${base}/ok`, 2000), { keys: [] });
  });

  it('refuses a body without Content-Length once it passes 1 MiB, without reading the rest', async () => {
    await assert.rejects(
      fetchJson(fetch, `${base}/endless`, 5000),
      (err: unknown) => err instanceof FetchError && /too large/.test(err.message),
    );
    assert.ok(bytesSent < 64 * 1024 * 1024, `stopped early (${bytesSent} bytes sent)`);
  });

  it('turns an HTTP error into a FetchError', async () => {
    await assert.rejects(
      fetchJson(fetch, `${base}/missing`, 2000),
      (err: unknown) => err instanceof FetchError && /HTTP 500/.test(err.message),
    );
  });
});
