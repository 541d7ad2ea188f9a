// server.max_connection_age: an old connection is sent a GOAWAY (so a client behind a headless Service re-resolves
// and reaches replicas added since), and no call is lost to it.
import assert from 'node:assert/strict';
import { connect, type ClientHttp2Session } from 'node:http2';
import { after, before, describe, it } from 'node:test';
import { startTestGatehouse, type TestGatehouse } from '../helpers/gatehouse.js';
import { LOOPBACK_AUDIENCE, startLoopbackIssuer, type LoopbackIssuer } from '../verification/loopback-issuer.js';
import { testConfig } from '../helpers/gatehouse.js';

describe('server.max_connection_age', () => {
  let issuer: LoopbackIssuer;
  let gh: TestGatehouse;
  before(async () => {
    issuer = await startLoopbackIssuer();
    gh = await startTestGatehouse({
      server: { max_connection_age: '1s' },
      issuers: [{ id: 'idp', type: 'oidc', issuer: issuer.issuer, audiences: [LOOPBACK_AUDIENCE] }],
      rules: [{ id: 'all', actions: ['/orders.v1.Orders/*'], issuers: ['idp'] }],
    });
  });
  after(async () => {
    await gh.close();
    await issuer.close();
  });

  it('sends an old connection a GOAWAY, and calls keep succeeding across it', async () => {
    const session: ClientHttp2Session = connect(`http://${gh.address}`);
    const goaway = new Promise<number>((resolve) => session.once('goaway', (code) => resolve(code)));
    const token = issuer.token();
    const results: boolean[] = [];
    let done = false;
    const calls = (async () => {
      while (!done) results.push((await gh.client.authorize(token, '/orders.v1.Orders/Get')).response.allowed);
    })();
    assert.equal(await goaway, 0, 'NO_ERROR: a graceful goodbye');
    session.destroy();
    // The test client's own connection is aged out too: wait for calls on a later connection.
    const before = results.length;
    while (results.length < before + 20) await new Promise((r) => setTimeout(r, 20));
    done = true;
    await calls;
    assert.ok(results.every(Boolean), `${results.filter((r) => !r).length} of ${results.length} calls were not allowed`);
  });

  it('is refused under a second, naming the key', () => {
    assert.throws(() => testConfig({ server: { max_connection_age: '10ms' }, issuers: [] }), /server\.max_connection_age/);
  });
});
