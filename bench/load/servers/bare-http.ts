/**
 * The HTTP baseline: a bare node:http server answering every request 200 with the headers a real `/v1/authz` allow
 * carried (captured by the bench, JSON in argv[2]). Prints `PORT <n>`.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const headers = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as Record<string, string>;
const server = createServer((_req, res) => {
  res.writeHead(200, headers).end();
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => console.log(`PORT ${(server.address() as AddressInfo).port}`));
process.on('SIGTERM', () => process.exit(0));
