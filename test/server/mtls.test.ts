// mTLS on the gRPC listener (server.tls.client_ca) with certificates made here by openssl: a client presenting a
// certificate the configured CA signed gets answers; one presenting none, or one another CA signed, is refused at
// the handshake. The client CA is re-read like the certificate: after a rotation to another CA, that CA's clients
// get in and the old CA's clients no longer do.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ServiceError } from '@grpc/grpc-js';
import { status } from '@grpc/grpc-js';
import { startTestGatehouse, type TestGatehouse } from '../helpers/gatehouse.js';
import { eventually, tlsReloads, verifyOnce } from '../helpers/tls-clients.js';
import { TestPki, type Pem, type SecretVolume } from '../helpers/tls-pki.js';

const ISSUER = { id: 'idp', type: 'oidc', issuer: 'http://127.0.0.1:9/', audiences: ['api'] };

describe('mTLS on the gRPC listener (server.tls.client_ca)', () => {
  const pki = new TestPki();
  let serverCa: Pem;
  let clientsCa: Pem;
  let otherCa: Pem;
  let server: Pem;
  let client: Pem;
  let stranger: Pem;
  let volume: SecretVolume;
  let gh: TestGatehouse;
  const as = (presented: Pem | undefined) => ({ ca: serverCa.cert, client: presented });
  const refused = (err: ServiceError) => err.code === status.UNAVAILABLE;

  before(async () => {
    serverCa = pki.ca('server-ca');
    clientsCa = pki.ca('clients-ca');
    otherCa = pki.ca('other-ca');
    server = pki.leaf('server', serverCa, { serial: '3001' });
    client = pki.leaf('client', clientsCa, { serial: '3101', usage: 'client' });
    stranger = pki.leaf('stranger', otherCa, { serial: '3201', usage: 'client' });
    volume = pki.secretVolume('secret', { cert: server.cert, key: server.key, ca: clientsCa.cert });
    gh = await startTestGatehouse({
      server: { tls: { cert: volume.cert(), key: volume.key(), client_ca: volume.ca() } },
      issuers: [ISSUER],
    });
  });
  after(async () => {
    await gh.close();
    pki.remove();
  });

  it('answers a client with a certificate the client CA signed', async () => {
    assert.equal((await verifyOnce(gh.gatehouse.grpcPort, as(client))).denial?.reason, 'TOKEN_MISSING');
  });

  it('refuses a client without a certificate', async () => {
    await assert.rejects(verifyOnce(gh.gatehouse.grpcPort, as(undefined)), refused);
  });

  it('refuses a client whose certificate another CA signed', async () => {
    await assert.rejects(verifyOnce(gh.gatehouse.grpcPort, as(stranger)), refused);
  });

  it('refuses a client presenting a self-signed certificate', async () => {
    await assert.rejects(verifyOnce(gh.gatehouse.grpcPort, as(otherCa)), refused);
  });

  it('re-reads the client CA: after a rotation the new CA’s clients get in, the old CA’s do not', async () => {
    volume.publish({ cert: server.cert, key: server.key, ca: otherCa.cert });
    await eventually('the new client CA is in force', async () => (await tlsReloads(gh.gatehouse, 'grpc', 'success')) === 1);
    assert.equal((await verifyOnce(gh.gatehouse.grpcPort, as(stranger))).denial?.reason, 'TOKEN_MISSING');
    await assert.rejects(verifyOnce(gh.gatehouse.grpcPort, as(client)), refused);
  });

  it('a client CA file that is no certificate keeps the running CA', async () => {
    volume.publish({ cert: server.cert, key: server.key, ca: server.key });
    await eventually('the refusal is counted', async () => (await tlsReloads(gh.gatehouse, 'grpc', 'failure')) === 1);
    const line = gh.logs.parsed().find((l) => l.msg === 'TLS reload failed; the running certificate stays in force');
    assert.match((line?.problems as string[]).join('\n'), /^server\.tls\.client_ca: not a PEM certificate/m);
    assert.equal((await verifyOnce(gh.gatehouse.grpcPort, as(stranger))).denial?.reason, 'TOKEN_MISSING');
    await assert.rejects(verifyOnce(gh.gatehouse.grpcPort, as(client)), refused);
  });
});
