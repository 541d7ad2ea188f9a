// grpc-js logs a metadata entry it cannot parse, value and all: `authorization: Bearer<TAB><token>` would put
// the token on stderr. Through the real processes: `gatehouse serve`, and a service behind the server
// interceptor that calls installGrpcLogRedaction(). The raw HTTP/2 call carries what a grpc-js client refuses.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { rawGrpcCall } from '../helpers/raw-grpc.js';
import { CliProcess, cleanEnv, REPO_ROOT, tempDir } from './cli-process.js';

const JWT = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJsZWFrZWQtc3ViamVjdCJ9.bGVha2VkLXNpZ25hdHVyZQ';
const OPAQUE = 'opaque-secret-4f1c9e';
const CONFIG = `issuers:
  - { id: idp, type: oidc, issuer: "http://127.0.0.1:9/", audiences: [api] }
`;

function parsedLines(text: string): Record<string, unknown>[] {
  return text.split('\n').flatMap((line) => {
    try {
      return [JSON.parse(line) as Record<string, unknown>];
    } catch {
      return [];
    }
  });
}

/** Every grpc-js line (component grpc-js) that reports the unparsable authorization entry, redacted. */
function redactedLines(output: string): Record<string, unknown>[] {
  return parsedLines(output).filter(
    (l) =>
      l.component === 'grpc-js' &&
      l.level === 'warn' &&
      typeof l.msg === 'string' &&
      l.msg.includes('Failed to add metadata entry authorization: [redacted]'),
  );
}

/** Sends both tokens after a tab; resolves to the grpc-status of each call. */
async function sendTabbedTokens(address: string, path: string): Promise<string[]> {
  const statuses: string[] = [];
  for (const token of [JWT, OPAQUE]) statuses.push(await rawGrpcCall(address, path, { authorization: `Bearer\t${token}` }));
  return statuses;
}

describe('grpc-js never writes a token: Bearer<TAB><token> metadata', () => {
  let dir: string;
  let remove: () => void;
  let serve: CliProcess;
  let address: string;

  before(async () => {
    ({ dir, remove } = tempDir());
    const file = join(dir, 'gatehouse.yaml');
    writeFileSync(file, CONFIG);
    serve = new CliProcess(['serve', '--config', file], { GATEHOUSE_GRPC_ADDRESS: '127.0.0.1:0', GATEHOUSE_HTTP_ADDRESS: '127.0.0.1:0' });
    const listening = await serve.waitForLog('gatehouse listening');
    address = `127.0.0.1:${String(listening.grpc)}`;
  });
  after(async () => {
    await serve?.kill();
    remove?.();
  });

  it('gatehouse serve: the line is logged as a redacted warning, the token nowhere', async () => {
    // Verify answers (OK, valid: false): grpc-js dropped the entry it could not parse, so no token arrived.
    assert.deepEqual(await sendTabbedTokens(address, '/gatehouse.v1.AuthService/Verify'), ['0', '0']);
    await serve.waitForLine((l) => l.includes('Failed to add metadata entry authorization'));
    serve.signal('SIGTERM');
    await serve.exited();
    const output = `${serve.lines.join('\n')}\n${serve.stderr}`;
    assert.equal(redactedLines(output).length, 2, output);
    for (const token of [JWT, OPAQUE, 'bGVha2VkLXNpZ25hdHVyZQ']) assert.ok(!output.includes(token), `${token} in the output`);
  });

  it('gatehouse serve with GRPC_TRACE=all, GRPC_VERBOSITY=DEBUG: traces of whole metadata are redacted too', async () => {
    const file = join(dir, 'traced.yaml');
    writeFileSync(file, `${CONFIG}logging: { level: debug }\n`);
    const traced = new CliProcess(['serve', '--config', file], {
      GATEHOUSE_GRPC_ADDRESS: '127.0.0.1:0',
      GATEHOUSE_HTTP_ADDRESS: '127.0.0.1:0',
      GRPC_TRACE: 'all',
      GRPC_VERBOSITY: 'DEBUG',
    });
    try {
      const listening = await traced.waitForLog('gatehouse listening');
      const at = `127.0.0.1:${String(listening.grpc)}`;
      assert.equal(await rawGrpcCall(at, '/gatehouse.v1.AuthService/Verify', { authorization: `Bearer ${JWT}` }), '0');
      const trace = await traced.waitForLine((l) => l.includes('received headers'));
      assert.match(trace, /\\"authorization\\":\\"\[redacted\]\\"/);
      traced.signal('SIGTERM');
      await traced.exited();
    } finally {
      await traced.kill();
    }
    const output = `${traced.lines.join('\n')}\n${traced.stderr}`;
    assert.ok(!output.includes(JWT) && !output.includes('bGVha2VkLXNpZ25hdHVyZQ'), 'the token in the output');
  });

  for (const redaction of [true, false]) {
    it(`a service behind the server interceptor ${redaction ? 'with' : 'without'} installGrpcLogRedaction()`, async () => {
      const env = cleanEnv(redaction ? {} : { GATEHOUSE_TEST_NO_REDACTION: '1' });
      const child = spawn(process.execPath, ['--import', 'tsx', 'test/client/fixtures/redacting-service.ts', '127.0.0.1:9'], {
        cwd: REPO_ROOT,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      const port = await new Promise<number>((resolve, reject) => {
        child.stdout.setEncoding('utf8').on('data', (d: string) => {
          stdout += d;
          const first = parsedLines(stdout).find((l) => typeof l.port === 'number');
          if (first) resolve(first.port as number);
        });
        child.on('exit', () => reject(new Error(`the service exited: ${stderr}`)));
      });
      try {
        // Refused (no token arrived, and gatehouse is not even reachable): never let through.
        const statuses = await sendTabbedTokens(`127.0.0.1:${port}`, '/test.v1.Echo/Say');
        assert.ok(
          statuses.every((s) => s !== '' && s !== '0'),
          JSON.stringify(statuses),
        );
      } finally {
        child.kill('SIGTERM');
        await new Promise((resolve) => child.once('close', resolve));
      }
      const output = `${stdout}\n${stderr}`;
      if (redaction) {
        assert.equal(redactedLines(output).length, 2, output);
        for (const token of [JWT, OPAQUE]) assert.ok(!output.includes(token), `${token} in the output`);
      } else {
        // The control: grpc-js's own logger prints both tokens. If this fails, grpc-js changed, not us.
        for (const token of [JWT, OPAQUE]) assert.ok(stderr.includes(`Bearer\t${token}`), stderr);
      }
    });
  }
});
