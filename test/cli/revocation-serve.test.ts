// The revocation file under the real `gatehouse serve`: a missing one refuses check-config and serve (exit 2,
// naming the key); `gatehouse revoke` appends and the running server refuses the token, a cached allow included;
// a bad file keeps the last list (counted on /metrics); a ConfigMap swap and a config reload naming another file
// are followed; `gatehouse explain` shows the matching entry.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startDevIssuer, type DevIssuer } from '../../src/dev/dev-issuer.js';
import { AuthTestClient, sleep } from '../helpers/gatehouse.js';
import { CliProcess, runCli, tempDir } from './cli-process.js';

const LISTEN_ON_FREE_PORTS = { GATEHOUSE_GRPC_ADDRESS: '127.0.0.1:0', GATEHOUSE_HTTP_ADDRESS: '127.0.0.1:0' };
const ACTION = '/orders.v1.Orders/GetOrder';
/** Generous: the file watch applies a change within about a second; a loaded CI machine may take longer. */
const DEADLINE_MS = 20_000;

function configYaml(issuerUrl: string, revocations: string): string {
  return `issuers:
  - id: dev
    type: oidc
    issuer: "${issuerUrl}"
    audiences: [api://orders]
rules:
  - { id: read, actions: [/orders.v1.Orders/Get*], any_roles: [Orders.Read] }
revocations:
  file: "${revocations}"
`;
}

/** Polls until `check` holds (no timing assertion: only a deadline far beyond the expected second). */
async function eventually(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + DEADLINE_MS;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`not within ${DEADLINE_MS} ms: ${what}`);
    await sleep(50);
  }
}

async function metric(metricsUrl: string, series: string): Promise<number> {
  const text = await (await fetch(metricsUrl)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return Number(line?.split(' ')[1] ?? NaN);
}

describe('a missing revocation file at start', () => {
  let dir: string;
  let remove: () => void;
  before(() => ({ dir, remove } = tempDir()));
  after(() => remove());

  it('check-config and serve exit 2, naming revocations.file', async () => {
    const file = join(dir, 'gatehouse.yaml');
    writeFileSync(file, configYaml('http://127.0.0.1:9', join(dir, 'absent.yaml')));
    for (const command of ['check-config', 'serve']) {
      const result = await runCli([command, '--config', file], { env: LISTEN_ON_FREE_PORTS });
      assert.equal(result.code, 2, `${command}: ${result.stdout}${result.stderr}`);
      assert.match(result.stderr, /revocations\.file: cannot read .*absent\.yaml: ENOENT/, command);
    }
  });
});

describe('gatehouse serve with revocations.file', () => {
  let issuer: DevIssuer;
  let serve: CliProcess;
  let client: AuthTestClient;
  let metricsUrl: string;
  let dir: string;
  let remove: () => void;
  let config: string;
  let revoked: string;
  let reader: (sub: string) => Promise<string>;

  const reasonOf = async (token: string) => {
    const { response } = await client.authorize(token, ACTION);
    return response.allowed ? 'ALLOWED' : response.denial!.reason;
  };

  before(async () => {
    ({ dir, remove } = tempDir());
    issuer = await startDevIssuer({ port: 0 });
    reader = (sub) => issuer.mint({ sub, roles: ['Orders.Read'] });
    revoked = join(dir, 'revoked.yaml');
    writeFileSync(revoked, '# revoked tokens, newest last\n- sub: eve\n');
    config = join(dir, 'gatehouse.yaml');
    writeFileSync(config, configYaml(issuer.url, revoked));
    const checked = await runCli(['check-config', '--config', config]);
    assert.equal(checked.code, 0, checked.stderr);
    assert.match(checked.stdout, /1 revocation entry/);
    serve = new CliProcess(['serve', '--config', config], LISTEN_ON_FREE_PORTS);
    const listening = await serve.waitForLog('gatehouse listening');
    assert.equal(listening.revocations, 1);
    client = new AuthTestClient(`127.0.0.1:${String(listening.grpc)}`);
    metricsUrl = `http://127.0.0.1:${String(listening.http)}/metrics`;
  });
  after(async () => {
    client?.close();
    await serve?.kill();
    await issuer?.close();
    remove();
  });

  it('refuses the listed subject from the start', async () => {
    assert.equal(await reasonOf(await reader('eve')), 'TOKEN_REVOKED');
    assert.equal(await metric(metricsUrl, 'gatehouse_revocations_entries'), 1);
  });

  it('gatehouse revoke appends (comments kept); the server refuses a token whose allow was cached, on Verify too', async () => {
    const alice = await reader('alice');
    assert.equal(await reasonOf(alice), 'ALLOWED');
    assert.equal((await client.authorize(alice, ACTION)).response.allowed, true, 'now served from the cache');
    assert.equal((await client.verify(alice)).response.valid, true);

    const result = await runCli(['revoke', '--file', revoked, '--sub', 'alice', '--issued-before', 'now']);
    assert.equal(result.code, 0, result.stderr);
    const text = readFileSync(revoked, 'utf8');
    assert.match(text, /^# revoked tokens, newest last\n- sub: eve\n- sub: alice\n {2}issued_before: "\d{4}-\d\d-\d\dT[\d:.]+Z"\n$/);

    await eventually('the cached allow for alice is refused', async () => (await reasonOf(alice)) === 'TOKEN_REVOKED');
    assert.equal((await client.verify(alice)).response.denial?.reason, 'TOKEN_REVOKED');
    await eventually('a token issued after the cut-off is allowed', async () => (await reasonOf(await reader('alice'))) === 'ALLOWED');
    assert.equal(await metric(metricsUrl, 'gatehouse_revocations_entries'), 2);
  });

  it('a bad file keeps the last good list, logs why and counts a failed load', async () => {
    const failures = await metric(metricsUrl, 'gatehouse_revocation_loads_total{outcome="failure"}');
    const from = serve.mark();
    writeFileSync(revoked, '- sub: eve\n- sub: alice\n- { bogus: 1 }\n');
    const log = await serve.waitForLog('revocations load failed; the last good list stays in force', from);
    assert.match((log.problems as string[]).join('\n'), /\[2\]: an entry needs at least one of/);
    assert.match((log.problems as string[]).join('\n'), /\[2\]\.bogus: unknown key/);
    await eventually('the failure is counted', async () => {
      return (await metric(metricsUrl, 'gatehouse_revocation_loads_total{outcome="failure"}')) === failures + 1;
    });
    assert.equal(await metric(metricsUrl, 'gatehouse_revocations_entries'), 2);
    assert.equal(await reasonOf(await reader('eve')), 'TOKEN_REVOKED');
  });

  it('gatehouse explain shows the matching entry and denies TOKEN_REVOKED', async () => {
    writeFileSync(revoked, '- sub: eve\n');
    const result = await runCli(['explain', '--config', config, '--token', await reader('eve'), '--action', ACTION]);
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stdout, /^revocation\s+MATCHED entry \[0\] of .*revoked\.yaml: on sub$/m);
    assert.match(result.stdout, /^decision\s+denied TOKEN_REVOKED/m);
    const allowed = await runCli(['explain', '--config', config, '--token', await reader('bob'), '--action', ACTION]);
    assert.equal(allowed.code, 0, allowed.stderr);
    assert.match(allowed.stdout, /^revocation\s+none matched \(1 entries in .*\)$/m);
  });

  it('follows a ConfigMap-style ..data symlink swap, and a config reload naming another file', async () => {
    const mounted = join(dir, 'mounted');
    mkdirSync(join(mounted, '..v1'), { recursive: true });
    writeFileSync(join(mounted, '..v1', 'revoked.yaml'), '- sub: frank\n');
    symlinkSync('..v1', join(mounted, '..data'));
    symlinkSync('..data/revoked.yaml', join(mounted, 'revoked.yaml'));
    writeFileSync(config, configYaml(issuer.url, join(mounted, 'revoked.yaml')));
    await eventually(
      'the new file named by the config is in force',
      async () => (await reasonOf(await reader('frank'))) === 'TOKEN_REVOKED',
    );
    assert.equal(await reasonOf(await reader('eve')), 'ALLOWED', 'the old file is no longer in force');

    mkdirSync(join(mounted, '..v2'));
    writeFileSync(join(mounted, '..v2', 'revoked.yaml'), '- sub: grace\n');
    symlinkSync('..v2', join(mounted, '..data_tmp'));
    renameSync(join(mounted, '..data_tmp'), join(mounted, '..data'));
    await eventually('the swapped list is in force', async () => (await reasonOf(await reader('grace'))) === 'TOKEN_REVOKED');
    assert.equal(await reasonOf(await reader('frank')), 'ALLOWED');
  });
});
