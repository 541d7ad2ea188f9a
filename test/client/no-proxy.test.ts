// Without credentials the AuthClient only talks to this host (a loopback target), in plaintext: so it must never
// send that plaintext through an HTTP proxy the environment names (grpc-js honours https_proxy and grpc_proxy for
// every target), where the proxy would see every token and reach its own "localhost".
import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createAuthClient } from '../../src/client/index.js';
import { startTestGatehouse, type TestGatehouse } from '../helpers/gatehouse.js';
import { LOOPBACK_AUDIENCE, startLoopbackIssuer, type LoopbackIssuer } from '../verification/loopback-issuer.js';

describe('AuthClient without credentials ignores proxies from the environment', () => {
  let issuer: LoopbackIssuer;
  let gh: TestGatehouse;
  let proxy: Server;
  const proxied: string[] = [];
  const saved = { https_proxy: process.env.https_proxy, grpc_proxy: process.env.grpc_proxy };
  before(async () => {
    issuer = await startLoopbackIssuer();
    gh = await startTestGatehouse({ issuers: [{ id: 'idp', type: 'oidc', issuer: issuer.issuer, audiences: [LOOPBACK_AUDIENCE] }] });
    // A proxy that records what it is asked to connect to and refuses it.
    proxy = createServer((socket) => {
      socket.once('data', (data) => {
        proxied.push(data.toString('latin1').split('\r\n')[0]!);
        socket.end('HTTP/1.1 403 Forbidden\r\n\r\n');
      });
      socket.on('error', () => {});
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    process.env.https_proxy = url;
    process.env.grpc_proxy = url;
  });
  after(async () => {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    proxy.close();
    await gh.close();
    await issuer.close();
  });

  it('calls gatehouse directly, and the proxy is never asked', async () => {
    for (const address of [`localhost:${gh.gatehouse.grpcPort}`, gh.address]) {
      const client = createAuthClient({ address, resends: 0, retry: false });
      try {
        const outcome = await client.verify(issuer.token());
        assert.equal(outcome.valid, true, address);
      } finally {
        client.close();
      }
    }
    assert.deepEqual(proxied, []);
  });
});
