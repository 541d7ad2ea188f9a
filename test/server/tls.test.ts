// TLS and mTLS on the gRPC listener, with test-only certificates (test/helpers/tls): a TLS client that trusts the
// CA gets answers, a plaintext one does not; with client_ca set, only clients presenting a certificate signed by
// it get in. Bad TLS settings are config errors naming the key. The CLI connects with --tls-ca.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { Client, credentials, Metadata, type ChannelCredentials, type ServiceDefinition, type ServiceError } from '@grpc/grpc-js';
import { startGatehouse, type Gatehouse } from '../../src/app.js';
import { ConfigError, validateConfig } from '../../src/config/load.js';
import { AUTH_SERVICE_NAME, loadGatehouseProto } from '../../src/contract/proto.js';
import type { VerifyResponse } from '../../src/contract/messages.js';
import { createLogger } from '../../src/telemetry/logger.js';
import { runCli } from '../cli/cli-process.js';

const tls = (name: string) => new URL(`../helpers/tls/${name}`, import.meta.url).pathname;
const read = (name: string) => readFileSync(tls(name));
const ISSUER = { id: 'idp', type: 'oidc', issuer: 'http://127.0.0.1:9/', audiences: ['api'] };

async function start(serverTls: Record<string, string>): Promise<Gatehouse> {
  const config = validateConfig({ server: { grpc: '127.0.0.1:0', http: '127.0.0.1:0', tls: serverTls }, issuers: [ISSUER] });
  return startGatehouse(config, { logger: createLogger({ level: 'silent' }) });
}

/** Verify with an empty token: any answer (TOKEN_MISSING) proves the channel works. */
function verify(port: number, channel: ChannelCredentials): Promise<VerifyResponse> {
  const service = loadGatehouseProto()[AUTH_SERVICE_NAME] as ServiceDefinition;
  const method = service.Verify!;
  // The certificate names 127.0.0.1 and localhost.
  const client = new Client(`localhost:${port}`, channel);
  return new Promise<VerifyResponse>((resolve, reject) => {
    client.makeUnaryRequest(
      method.path,
      method.requestSerialize,
      method.responseDeserialize as (b: Buffer) => VerifyResponse,
      { token: '' },
      new Metadata(),
      { deadline: Date.now() + 3000 },
      (err: ServiceError | null, res?: VerifyResponse) => (err ? reject(err) : resolve(res!)),
    );
  }).finally(() => client.close());
}

describe('TLS on the gRPC listener', () => {
  let gatehouse: Gatehouse;
  before(async () => {
    gatehouse = await start({ cert: tls('server.pem'), key: tls('server-key.pem') });
  });
  after(() => gatehouse.shutdown());

  it('answers a client that trusts the CA, and refuses a plaintext one', async () => {
    const answer = await verify(gatehouse.grpcPort, credentials.createSsl(read('ca.pem')));
    assert.equal(answer.denial?.reason, 'TOKEN_MISSING');
    await assert.rejects(verify(gatehouse.grpcPort, credentials.createInsecure()), (err: ServiceError) => err.code !== undefined);
  });

  it('the CLI connects with --tls-ca', async () => {
    const result = await runCli(['verify', 'not-a-token', '--address', `localhost:${gatehouse.grpcPort}`, '--tls-ca', tls('ca.pem')]);
    assert.equal(result.code, 1, result.stderr); // refused (a value), not a failed call (2)
    assert.match(result.stdout, /TOKEN_MALFORMED/);
  });
});

describe('mTLS: server.tls.client_ca', () => {
  let gatehouse: Gatehouse;
  before(async () => {
    gatehouse = await start({ cert: tls('server.pem'), key: tls('server-key.pem'), client_ca: tls('ca.pem') });
  });
  after(() => gatehouse.shutdown());

  it('lets in a client with a certificate the CA signed, and nobody else', async () => {
    const withCert = credentials.createSsl(read('ca.pem'), read('client-key.pem'), read('client.pem'));
    assert.equal((await verify(gatehouse.grpcPort, withCert)).denial?.reason, 'TOKEN_MISSING');
    await assert.rejects(verify(gatehouse.grpcPort, credentials.createSsl(read('ca.pem'))));
  });
});

describe('TLS settings are validated at start, naming the key', () => {
  const problemsOf = (serverTls: Record<string, string>): string[] => {
    try {
      validateConfig({ server: { tls: serverTls }, issuers: [ISSUER] });
    } catch (err) {
      assert.ok(err instanceof ConfigError);
      return [...err.problems];
    }
    return [];
  };

  it('a missing file, a key that does not match the certificate, a CA that is no certificate', () => {
    assert.match(problemsOf({ cert: '/nonexistent.pem', key: tls('server-key.pem') }).join('\n'), /^server\.tls\.cert: cannot read/m);
    assert.match(problemsOf({ cert: tls('server.pem'), key: tls('client-key.pem') }).join('\n'), /^server\.tls\.key: does not match/m);
    assert.match(
      problemsOf({ cert: tls('server.pem'), key: tls('server-key.pem'), client_ca: tls('server-key.pem') }).join('\n'),
      /^server\.tls\.client_ca: not a PEM certificate/m,
    );
    assert.deepEqual(problemsOf({ cert: tls('server.pem'), key: tls('server-key.pem') }), []);
  });
});
