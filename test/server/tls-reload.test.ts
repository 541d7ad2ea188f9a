// server.tls re-read when its files change, with certificates made here by openssl and rotated the way the
// kubelet rotates a mounted Secret (one rename of `..data`): calls driven without pause across the swap all get
// answers, and new connections are shown the new certificate's serial; a bad new set (a key that does not match,
// a file that is no PEM, an expired certificate) keeps the running certificate, is logged naming the key, and is
// counted in gatehouse_tls_reloads_total{outcome="failure"}.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { checkTlsFiles } from '../../src/config/tls-files.js';
import { startTestGatehouse, type TestGatehouse } from '../helpers/gatehouse.js';
import { eventually, peerSerial, TlsAuthClient, tlsReloads, verifyOnce } from '../helpers/tls-clients.js';
import { TestPki, type Pem, type SecretVolume } from '../helpers/tls-pki.js';

const ISSUER = { id: 'idp', type: 'oidc', issuer: 'http://127.0.0.1:9/', audiences: ['api'] };

describe('server.tls rotation (a Kubernetes Secret swap)', () => {
  const pki = new TestPki();
  let ca: Pem;
  let first: Pem;
  let second: Pem;
  let volume: SecretVolume;
  let gh: TestGatehouse;
  let port: number;
  const trust = () => ({ ca: ca.cert });

  before(async () => {
    ca = pki.ca('rotation-ca');
    first = pki.leaf('first', ca, { serial: '1001' });
    second = pki.leaf('second', ca, { serial: '1002' });
    volume = pki.secretVolume('secret', { cert: first.cert, key: first.key });
    gh = await startTestGatehouse({ server: { tls: { cert: volume.cert(), key: volume.key() } }, issuers: [ISSUER] });
    port = gh.gatehouse.grpcPort;
  });
  after(async () => {
    await gh.close();
    pki.remove();
  });

  it('loses no call while the certificate is swapped, and new connections get the new one', async () => {
    assert.equal(await peerSerial(port, trust()), '1001');
    const failures: unknown[] = [];
    let answered = 0;
    let answeredOnNewConnections = 0;
    let stop = false;
    const shared = new TlsAuthClient(port, trust());
    const expectMissing = (reason: string | undefined) => {
      if (reason === 'TOKEN_MISSING') answered++;
      else failures.push(new Error(`unexpected answer ${reason}`));
    };
    // Two loops on one long-lived connection (which keeps the certificate it shook hands with), two that open
    // a new connection for every call (each handshake during the swap gets one certificate or the other).
    const onShared = async () => {
      while (!stop)
        await shared.verify().then(
          (r) => expectMissing(r.denial?.reason),
          (err: unknown) => failures.push(err),
        );
    };
    const onNew = async () => {
      while (!stop) {
        await verifyOnce(port, trust()).then(
          (r) => {
            expectMissing(r.denial?.reason);
            answeredOnNewConnections++;
          },
          (err: unknown) => failures.push(err),
        );
      }
    };
    const loops = [onShared(), onShared(), onNew(), onNew()];
    try {
      await eventually('calls flow', () => answeredOnNewConnections >= 10);
      volume.publish({ cert: second.cert, key: second.key });
      await eventually('the new certificate is counted in force', async () => (await tlsReloads(gh.gatehouse, 'grpc', 'success')) === 1);
      const atSwap = { answered, answeredOnNewConnections };
      await eventually('calls flow after the swap', () => answeredOnNewConnections >= atSwap.answeredOnNewConnections + 10);
      assert.ok(answered > atSwap.answered);
    } finally {
      stop = true;
      await Promise.all(loops);
      shared.close();
    }
    assert.deepEqual(failures, []);
    assert.equal(await peerSerial(port, trust()), '1002');
    const line = gh.logs.parsed().find((l) => l.msg === 'TLS certificate reloaded; new connections get it');
    assert.equal(line?.serial, '1002');
    assert.equal(line?.listener, 'grpc');
    assert.equal(line?.trigger, 'file change');
    assert.equal(await tlsReloads(gh.gatehouse, 'grpc', 'failure'), 0);
  });

  // Each case publishes a bad set over the running one (serial 1002): refused, counted, logged, still 1002.
  const refusals: [name: string, publish: () => void, problem: RegExp][] = [
    [
      'a key that does not match the certificate',
      () => volume.publish({ cert: pki.leaf('third', ca, { serial: '1003' }).cert, key: first.key }),
      /^server\.tls\.key: does not match/,
    ],
    [
      'a certificate file that is no PEM',
      () => volume.publish({ cert: { text: 'not a certificate\n' }, key: second.key }),
      /^server\.tls\.cert: not a PEM certificate/,
    ],
    [
      'a private key file that is no PEM',
      () => volume.publish({ cert: second.cert, key: { text: '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n' } }),
      /^server\.tls\.key: not a PEM private key/,
    ],
    [
      'a pair TLS itself refuses (an RSA key of 512 bits)',
      () => {
        const weak = pki.leaf('weak', ca, { serial: '10e2', weakKey: true });
        volume.publish({ cert: weak.cert, key: weak.key });
      },
      /^server\.tls\.cert: TLS refuses this certificate and key: .*ee key too small/,
    ],
    [
      'an expired certificate',
      () => {
        const expired = pki.leaf('expired', ca, { serial: '10e1', days: -1 });
        volume.publish({ cert: expired.cert, key: expired.key });
      },
      /^server\.tls\.cert: expired on /,
    ],
  ];
  refusals.forEach(([name, publish, problem], i) => {
    it(`refuses ${name}: the running certificate stays, counted and logged`, async () => {
      const logged = gh.logs.raw.length;
      publish();
      await eventually('the refusal is counted', async () => (await tlsReloads(gh.gatehouse, 'grpc', 'failure')) === i + 1);
      const line = gh.logs
        .parsed()
        .slice(logged)
        .find((l) => l.msg === 'TLS reload failed; the running certificate stays in force');
      assert.equal(line?.level, 'error');
      assert.match((line?.problems as string[]).join('\n'), new RegExp(problem.source, 'm'));
      assert.equal(await peerSerial(port, trust()), '1002');
      assert.equal((await verifyOnce(port, trust())).denial?.reason, 'TOKEN_MISSING');
      assert.equal(await tlsReloads(gh.gatehouse, 'grpc', 'success'), 1);
    });
  });

  it('takes a good set again after refusals', async () => {
    const fourth = pki.leaf('fourth', ca, { serial: '1004' });
    volume.publish({ cert: fourth.cert, key: fourth.key });
    await eventually('the good set is in force', async () => (await tlsReloads(gh.gatehouse, 'grpc', 'success')) === 2);
    assert.equal(await peerSerial(port, trust()), '1004');
  });

  it('SIGHUP (reloadTls) applies a change at once; unchanged files are neither applied nor counted', async () => {
    const fifth = pki.leaf('fifth', ca, { serial: '1005' });
    const logged = gh.logs.raw.length;
    volume.publish({ cert: fifth.cert, key: fifth.key });
    gh.gatehouse.reloadTls('SIGHUP'); // in the same tick as the swap: the watch cannot have fired yet
    assert.equal(await tlsReloads(gh.gatehouse, 'grpc', 'success'), 3);
    assert.equal(await peerSerial(port, trust()), '1005');
    const line = gh.logs
      .parsed()
      .slice(logged)
      .find((l) => l.msg === 'TLS certificate reloaded; new connections get it');
    assert.equal(line?.trigger, 'SIGHUP');
    gh.gatehouse.reloadTls('SIGHUP');
    assert.equal(await tlsReloads(gh.gatehouse, 'grpc', 'success'), 3);
    assert.equal(await tlsReloads(gh.gatehouse, 'grpc', 'failure'), refusals.length);
  });

  it('the expiry of the certificate in force is a gauge', async () => {
    const body = (await gh.gatehouse.metrics.exposition()).body;
    const expiry = /^gatehouse_tls_certificate_expiry_timestamp_seconds\{listener="grpc"\} (\d+)$/m.exec(body);
    assert.ok(expiry, body);
    assert.ok(Number(expiry[1]) * 1000 > Date.now());
  });
});

describe('TLS files are checked against the clock', () => {
  const pki = new TestPki();
  after(() => pki.remove());

  it('a certificate past its notAfter is refused at start, naming the key; one not valid yet is not', () => {
    const ca = pki.ca('clock-ca');
    const leaf = pki.leaf('clock', ca, { serial: '2001' });
    const twoDays = 2 * 24 * 3600 * 1000;
    assert.deepEqual(checkTlsFiles({ cert: leaf.cert, key: leaf.key }), []);
    assert.deepEqual(checkTlsFiles({ cert: leaf.cert, key: leaf.key }, Date.now() - twoDays), []);
    const later = checkTlsFiles({ cert: leaf.cert, key: leaf.key, client_ca: ca.cert }, Date.now() + twoDays + 60_000);
    assert.deepEqual(
      later.map(([key]) => key),
      ['cert', 'client_ca'],
    );
    assert.match(later[0]![1], /^expired on \d{4}-/);
  });
});
