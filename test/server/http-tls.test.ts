// TLS on the HTTP listener (server.http_tls), for a forward-auth door reached across a network, with certificates
// made here by openssl: HTTPS answers and plain HTTP does not; the certificate is re-read on a Secret-style swap
// while requests run on new connections (none lost, new connections see the new serial), and a bad new pair keeps
// the running one (counted, logged); with client_ca, a client without a certificate or with one another CA signed
// is refused at the handshake, on /v1/authz and the probes alike.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { validateConfig, ConfigError } from '../../src/config/load.js';
import { startTestGatehouse, type TestGatehouse } from '../helpers/gatehouse.js';
import { eventually, FORWARD_WITHOUT_TOKEN, httpsStatus, peerSerial, tlsReloads } from '../helpers/tls-clients.js';
import { TestPki, type Pem, type SecretVolume } from '../helpers/tls-pki.js';

const ISSUER = { id: 'idp', type: 'oidc', issuer: 'http://127.0.0.1:9/', audiences: ['api'] };

/** A plain-HTTP GET: resolves with the status, rejects when the connection fails or is cut. */
function plainStatus(port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error('timed out')));
    req.end();
  });
}

describe('server.http_tls', () => {
  const pki = new TestPki();
  let ca: Pem;
  let first: Pem;
  let volume: SecretVolume;
  let gh: TestGatehouse;
  let port: number;
  const trust = () => ({ ca: ca.cert });

  before(async () => {
    ca = pki.ca('http-ca');
    first = pki.leaf('first', ca, { serial: '4001' });
    volume = pki.secretVolume('secret', { cert: first.cert, key: first.key });
    gh = await startTestGatehouse({ server: { http_tls: { cert: volume.cert(), key: volume.key() } }, issuers: [ISSUER] });
    port = gh.gatehouse.httpPort;
  });
  after(async () => {
    await gh.close();
    pki.remove();
  });

  it('serves the probes and /v1/authz over HTTPS, and no plain HTTP', async () => {
    assert.equal(await httpsStatus(port, '/healthz', trust()), 200);
    assert.equal(await httpsStatus(port, '/v1/authz', trust(), FORWARD_WITHOUT_TOKEN), 401); // no token: refused by the engine
    await assert.rejects(plainStatus(port, '/healthz'));
    assert.equal(await peerSerial(port, trust()), '4001');
  });

  it('cuts a connection that never completes its TLS handshake, as a silent plain-HTTP one is (headersTimeout)', async () => {
    const socket = connect({ host: '127.0.0.1', port });
    const closed = new Promise<'closed'>((resolve) => socket.once('close', () => resolve('closed')));
    socket.on('error', () => {});
    // Node's default handshake timeout is 120 s: a few thousand silent sockets would each be held that long.
    const bound = new Promise<'still open'>((resolve) => setTimeout(() => resolve('still open'), 30_000).unref());
    const outcome = await Promise.race([closed, bound]);
    socket.destroy();
    assert.equal(outcome, 'closed');
  });

  it('loses no request while the certificate is swapped, and new connections get the new one', async () => {
    const second = pki.leaf('second', ca, { serial: '4002' });
    const failures: unknown[] = [];
    let answered = 0;
    let stop = false;
    const loop = async () => {
      while (!stop) {
        await httpsStatus(port, '/healthz', trust()).then(
          (code) => (code === 200 ? answered++ : failures.push(new Error(`status ${code}`))),
          (err: unknown) => failures.push(err),
        );
      }
    };
    const loops = [loop(), loop(), loop()];
    try {
      await eventually('requests flow', () => answered >= 10);
      volume.publish({ cert: second.cert, key: second.key });
      await eventually('the new certificate is counted in force', async () => (await tlsReloads(gh.gatehouse, 'http', 'success')) === 1);
      const atSwap = answered;
      await eventually('requests flow after the swap', () => answered >= atSwap + 10);
    } finally {
      stop = true;
      await Promise.all(loops);
    }
    assert.deepEqual(failures, []);
    assert.equal(await peerSerial(port, trust()), '4002');
    const line = gh.logs.parsed().find((l) => l.msg === 'TLS certificate reloaded; new connections get it');
    assert.equal(line?.listener, 'http');
    assert.equal(line?.serial, '4002');
  });

  it('a bad new pair keeps the running certificate, counted and logged', async () => {
    volume.publish({ cert: first.cert, key: pki.leaf('third', ca, { serial: '4003' }).key });
    await eventually('the refusal is counted', async () => (await tlsReloads(gh.gatehouse, 'http', 'failure')) === 1);
    const line = gh.logs.parsed().find((l) => l.msg === 'TLS reload failed; the running certificate stays in force');
    assert.equal(line?.listener, 'http');
    assert.match((line?.problems as string[]).join('\n'), /^server\.http_tls\.key: does not match/m);
    assert.equal(await peerSerial(port, trust()), '4002');
    assert.equal(await httpsStatus(port, '/healthz', trust()), 200);
    // The gRPC listener has no TLS here: no series of its own.
    assert.ok(Number.isNaN(await tlsReloads(gh.gatehouse, 'grpc', 'success')));
  });
});

describe('mTLS on the HTTP listener (server.http_tls.client_ca)', () => {
  const pki = new TestPki();
  let ca: Pem;
  let client: Pem;
  let stranger: Pem;
  let gh: TestGatehouse;
  const as = (presented: Pem | undefined) => ({ ca: ca.cert, client: presented });

  before(async () => {
    ca = pki.ca('http-mtls-ca');
    const server = pki.leaf('server', ca, { serial: '5001' });
    client = pki.leaf('proxy', ca, { serial: '5101', usage: 'client' });
    stranger = pki.leaf('stranger', pki.ca('other-ca'), { serial: '5201', usage: 'client' });
    gh = await startTestGatehouse({
      server: { http_tls: { cert: server.cert, key: server.key, client_ca: ca.cert } },
      issuers: [ISSUER],
    });
  });
  after(async () => {
    await gh.close();
    pki.remove();
  });

  it('answers a client (the proxy) presenting a certificate the client CA signed', async () => {
    assert.equal(await httpsStatus(gh.gatehouse.httpPort, '/v1/authz', as(client), FORWARD_WITHOUT_TOKEN), 401);
    assert.equal(await httpsStatus(gh.gatehouse.httpPort, '/healthz', as(client)), 200);
  });

  it('refuses a client without a certificate', async () => {
    await assert.rejects(httpsStatus(gh.gatehouse.httpPort, '/v1/authz', as(undefined), FORWARD_WITHOUT_TOKEN));
    await assert.rejects(httpsStatus(gh.gatehouse.httpPort, '/healthz', as(undefined)));
  });

  it('refuses a client whose certificate another CA signed', async () => {
    await assert.rejects(httpsStatus(gh.gatehouse.httpPort, '/v1/authz', as(stranger), FORWARD_WITHOUT_TOKEN));
  });
});

describe('server.http_tls is validated at start, naming the key', () => {
  const pki = new TestPki();
  after(() => pki.remove());

  it('a key that does not match, a missing CA file', () => {
    const ca = pki.ca('check-ca');
    const leaf = pki.leaf('leaf', ca, { serial: '6001' });
    const other = pki.leaf('other', ca, { serial: '6002' });
    const problems = (httpTls: Record<string, string>): string => {
      try {
        validateConfig({ server: { http_tls: httpTls }, issuers: [ISSUER] });
      } catch (err) {
        assert.ok(err instanceof ConfigError);
        return err.problems.join('\n');
      }
      return '';
    };
    assert.match(problems({ cert: leaf.cert, key: other.key }), /^server\.http_tls\.key: does not match/m);
    assert.match(
      problems({ cert: leaf.cert, key: leaf.key, client_ca: `${pki.dir}/absent.pem` }),
      /^server\.http_tls\.client_ca: cannot read/m,
    );
    assert.equal(problems({ cert: leaf.cert, key: leaf.key }), '');
  });
});
