import assert from 'node:assert/strict';
import { mkdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startDevIssuer, type DevIssuer } from '../../src/dev/dev-issuer.js';
import { CliProcess, runCli, tempDir } from './cli-process.js';

const LISTEN_ON_FREE_PORTS = { GATEHOUSE_GRPC_ADDRESS: '127.0.0.1:0', GATEHOUSE_HTTP_ADDRESS: '127.0.0.1:0' };

/** A config for the dev issuer whose read rule needs `readRole`, under the rule id `readRule`. */
function configYaml(issuerUrl: string, readRule: string, readRole: string, extra = ''): string {
  return `issuers:
  - id: dev
    type: oidc
    issuer: "${issuerUrl}"
    audiences: [api://orders]
groups:
  5b1c9a3e-8f2d-4c6b-9e7a-0d1f2e3c4b5a: billing-operators
rules:
  - { id: health, actions: [/grpc.health.v1.Health/*], public: true }
  - { id: ${readRule}, actions: [/orders.v1.Orders/Get*], any_roles: [${readRole}] }
${extra}`;
}

async function startServe(file: string): Promise<{ serve: CliProcess; address: string; metricsUrl: string }> {
  const serve = new CliProcess(['serve', '--config', file], LISTEN_ON_FREE_PORTS);
  const listening = await serve.waitForLog('gatehouse listening');
  return { serve, address: `127.0.0.1:${String(listening.grpc)}`, metricsUrl: `http://127.0.0.1:${String(listening.http)}/metrics` };
}

/** gatehouse_config_reloads_total{outcome} as the running server exposes it. */
async function reloadsCounted(metricsUrl: string, outcome: 'success' | 'failure'): Promise<number> {
  const text = await (await fetch(metricsUrl)).text();
  const line = text.split('\n').find((l) => l.startsWith(`gatehouse_config_reloads_total{outcome="${outcome}"}`));
  return Number(line?.split(' ')[1] ?? 0);
}

describe('gatehouse serve reloads its rules (SIGHUP, file changes) and keeps them when a reload is invalid', () => {
  let issuer: DevIssuer;
  let serve: CliProcess;
  let address: string;
  let metricsUrl: string;
  let file: string;
  let reader: string;
  let remove: () => void;

  /** Authorizes GetOrder with a token holding Orders.Read; returns exit code and the rule line. */
  const getOrder = async () => {
    const result = await runCli(['authorize', '--token', reader, '--action', '/orders.v1.Orders/GetOrder', '--address', address]);
    return { code: result.code, rule: /^rule\s+(\S+)$/m.exec(result.stdout)?.[1], stdout: result.stdout, stderr: result.stderr };
  };

  before(async () => {
    let dir: string;
    ({ dir, remove } = tempDir());
    issuer = await startDevIssuer({ port: 0 });
    reader = await issuer.mint({ sub: 'alice', roles: ['Orders.Read'] });
    file = join(dir, 'gatehouse.yaml');
    writeFileSync(file, configYaml(issuer.url, 'read-v1', 'Orders.Read'));
    ({ serve, address, metricsUrl } = await startServe(file));
  });
  after(async () => {
    await serve.kill();
    await issuer.close();
    remove();
  });

  it('starts with the file rules: a reader may GetOrder', async () => {
    const result = await getOrder();
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.rule, 'read-v1');
  });

  it('SIGHUP after the rules changed: the new rule applies', async () => {
    const from = serve.mark();
    writeFileSync(file, configYaml(issuer.url, 'read-v2', 'Orders.Admin'));
    serve.signal('SIGHUP');
    const log = await serve.waitForLog('config reloaded', from);
    assert.equal(log.level, 'info');
    assert.equal(log.trigger, 'SIGHUP');
    assert.equal(log.rules, 2);
    const result = await getOrder();
    assert.equal(result.code, 1);
    assert.equal(result.rule, 'read-v2');
    assert.match(result.stdout, /^reason\s+MISSING_ROLE$/m);
  });

  it('an editor-style replace (write a new file, rename it over the old) reloads without a signal', async () => {
    const from = serve.mark();
    writeFileSync(`${file}.tmp`, configYaml(issuer.url, 'read-v3', 'Orders.Read'));
    renameSync(`${file}.tmp`, file);
    const log = await serve.waitForLog('config reloaded', from);
    assert.equal(log.trigger, 'file change');
    const result = await getOrder();
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.rule, 'read-v3');
  });

  it('invalid rules: the reload fails, the log says why, the running rules keep working', async () => {
    const from = serve.mark();
    const badRule = '  - { id: refunds, actions: [/billing.v1.Billing/Refund], any_groups: [billing-operatorz] }\n';
    writeFileSync(file, configYaml(issuer.url, 'read-v4', 'Orders.Admin', badRule));
    serve.signal('SIGHUP');
    const log = await serve.waitForLog('config reload failed; the running rules stay in force', from);
    assert.equal(log.level, 'error');
    assert.ok(Array.isArray(log.problems));
    assert.match(
      (log.problems as string[]).join('\n'),
      /rules\[2\] \(id refunds\)\.any_groups\[0\]: unknown group name "billing-operatorz"/,
    );
    const result = await getOrder();
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.rule, 'read-v3');
  });

  it('an invalid file (a bad key): the reload fails naming the key, the running rules keep working', async () => {
    const from = serve.mark();
    const failuresBefore = await reloadsCounted(metricsUrl, 'failure');
    writeFileSync(file, `${configYaml(issuer.url, 'read-v5', 'Orders.Admin')}keys:\n  refresh_interval: soon\n`);
    const log = await serve.waitForLog('config reload failed; the running rules stay in force', from);
    assert.match((log.problems as string[]).join('\n'), /keys\.refresh_interval: not a duration/);
    assert.equal(await reloadsCounted(metricsUrl, 'failure'), failuresBefore + 1, 'counted as a failed reload');
    assert.equal((await getOrder()).rule, 'read-v3');
  });

  it('a server.* change is applied only at restart: a warning names the key, the rules still reload', async () => {
    const from = serve.mark();
    writeFileSync(file, `${configYaml(issuer.url, 'read-v6', 'Orders.Read')}server:\n  shutdown_grace: 3s\n`);
    serve.signal('SIGHUP');
    const warning = await serve.waitForLog('server.shutdown_grace changed; it takes effect only after a restart', from);
    assert.equal(warning.level, 'warn');
    assert.equal(warning.key, 'server.shutdown_grace');
    await serve.waitForLog('config reloaded', from);
    assert.equal((await getOrder()).rule, 'read-v6');
  });

  it('SIGTERM: serve drains and exits 0', async () => {
    serve.signal('SIGTERM');
    const { code } = await serve.exited();
    assert.equal(code, 0, serve.stderr);
    assert.ok(serve.logs().some((l) => l.msg === 'gatehouse stopped'));
  });
});

describe('gatehouse serve follows a Kubernetes ConfigMap update (a ..data symlink swap)', () => {
  let issuer: DevIssuer;
  let serve: CliProcess;
  let address: string;
  let dir: string;
  let remove: () => void;

  /** Lays out a ConfigMap volume: gatehouse.yaml → ..data/gatehouse.yaml, ..data → ..<version>. */
  const publish = (version: string, yaml: string) => {
    mkdirSync(join(dir, `..${version}`));
    writeFileSync(join(dir, `..${version}`, 'gatehouse.yaml'), yaml);
    symlinkSync(`..${version}`, join(dir, '..data_tmp'));
    renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
  };

  before(async () => {
    ({ dir, remove } = tempDir());
    issuer = await startDevIssuer({ port: 0 });
    publish('v1', configYaml(issuer.url, 'read-v1', 'Orders.Read'));
    symlinkSync('..data/gatehouse.yaml', join(dir, 'gatehouse.yaml'));
    ({ serve, address } = await startServe(join(dir, 'gatehouse.yaml')));
  });
  after(async () => {
    await serve.kill();
    await issuer.close();
    remove();
  });

  it('reloads when ..data is swapped to a new version', async () => {
    const from = serve.mark();
    publish('v2', configYaml(issuer.url, 'read-v2', 'Orders.Admin'));
    rmSync(join(dir, '..v1'), { recursive: true });
    const log = await serve.waitForLog('config reloaded', from);
    assert.equal(log.trigger, 'file change');
    const reader = await issuer.mint({ sub: 'alice', roles: ['Orders.Read'] });
    const result = await runCli(['authorize', '--token', reader, '--action', '/orders.v1.Orders/GetOrder', '--address', address]);
    assert.equal(result.code, 1);
    assert.match(result.stdout, /^rule\s+read-v2$/m);
  });

  it('reloads when the symlink target is edited in place (its directory is watched too)', async () => {
    const from = serve.mark();
    writeFileSync(join(dir, 'gatehouse.yaml'), configYaml(issuer.url, 'read-v3', 'Orders.Read'));
    const log = await serve.waitForLog('config reloaded', from);
    assert.equal(log.trigger, 'file change');
  });
});
