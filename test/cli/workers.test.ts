import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AuthTestClient, until } from '../helpers/gatehouse.js';
import { promtool } from '../helpers/prometheus.js';
import { LOOPBACK_AUDIENCE, startLoopbackIssuer, type LoopbackIssuer } from '../verification/loopback-issuer.js';
import { CliProcess, runCli, tempDir } from './cli-process.js';

const LISTEN_ON_FREE_PORTS = { GATEHOUSE_GRPC_ADDRESS: '127.0.0.1:0', GATEHOUSE_HTTP_ADDRESS: '127.0.0.1:0' };
const ACTION = '/orders.v1.Orders/GetOrder';
/** Calls driven for the exactness check, each on a connection of its own (the primary deals connections out in turn). */
const K = 24;

/**
 * An issuer whose JWKS answers only when released: a call with its token waits inside gatehouse (on the key fetch
 * every worker starts with), so a signal can be sent while the call is in flight, without any timing.
 */
async function startHeldIssuer(jwks: unknown) {
  const parked: ServerResponse[] = [];
  let released = false;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (req.url === '/jwks') {
      if (released) res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(jwks));
      else parked.push(res);
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ issuer: url, jwks_uri: `${url}/jwks` }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    release() {
      released = true;
      for (const res of parked.splice(0)) res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(jwks));
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function configYaml(issuer: string, heldIssuer: string, readRule: string, workers: unknown = 2, revocations?: string): string {
  return `${revocations ? `revocations: { file: "${revocations}" }\n` : ''}server:
  workers: ${String(workers)}
  shutdown_grace: 60s
keys:
  fetch_timeout: 60s
issuers:
  - { id: loopback, type: oidc, issuer: "${issuer}", audiences: ["${LOOPBACK_AUDIENCE}"] }
  - { id: held, type: oidc, issuer: "${heldIssuer}", jwks_uri: "${heldIssuer}/jwks", audiences: ["${LOOPBACK_AUDIENCE}"] }
rules:
  - { id: ${readRule}, actions: ["/orders.v1.Orders/Get*"], any_roles: [Orders.Read] }
`;
}

/** The value of one sample of the exposition (`name{labels}`, labels in prom-client's order), or undefined. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

const AUTHORIZE = 'grpc_type="unary",grpc_service="gatehouse.v1.AuthService",grpc_method="Authorize"';

describe('gatehouse serve with server.workers: 2 (a primary and two workers sharing the ports)', () => {
  let issuer: LoopbackIssuer;
  let held: Awaited<ReturnType<typeof startHeldIssuer>>;
  let serve: CliProcess;
  let address: string;
  let metricsUrl: string;
  let file: string;
  let revoked: string;
  let pids: number[];
  let remove: () => void;

  const reader = () => issuer.token({ claims: { roles: ['Orders.Read'] } });
  const scrape = async () => (await fetch(metricsUrl)).text();
  /** One Authorize on a fresh connection. */
  const authorizeOnce = async (token = reader()) => {
    const client = new AuthTestClient(address);
    try {
      return (await client.authorize(token, ACTION)).response;
    } finally {
      client.close();
    }
  };
  /** Waits for `msg` from each of `n` distinct workers after `from`; returns their lines. */
  const fromEachWorker = async (msg: string, from: number, n = 2, test: (l: Record<string, unknown>) => boolean = () => true) => {
    await serve.waitForLine(
      () =>
        new Set(
          serve
            .logs(from)
            .filter((l) => l.msg === msg && test(l))
            .map((l) => l.worker),
        ).size >= n,
      from,
    );
    return serve.logs(from).filter((l) => l.msg === msg && test(l));
  };

  before(async () => {
    let dir: string;
    ({ dir, remove } = tempDir());
    issuer = await startLoopbackIssuer();
    held = await startHeldIssuer(await (await fetch(`${issuer.issuer}/jwks`)).json());
    file = join(dir, 'gatehouse.yaml');
    revoked = join(dir, 'revoked.yaml');
    writeFileSync(revoked, '- sub: nobody\n');
    writeFileSync(file, configYaml(issuer.issuer, held.url, 'read-v1', 2, revoked));
    serve = new CliProcess(['serve', '--config', file], LISTEN_ON_FREE_PORTS);
    const serving = await serve.waitForLog('workers serving');
    address = `127.0.0.1:${String(serving.grpc)}`;
    metricsUrl = `http://127.0.0.1:${String(serving.http)}/metrics`;
    pids = serving.pids as number[];
  });
  after(async () => {
    held.release();
    await serve.kill();
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone, as it should be
      }
    }
    await held.close();
    await issuer.close();
    remove();
  });

  it('forks two workers on the same ports; each logs that it listens there', () => {
    assert.equal(pids.length, 2);
    assert.notEqual(pids[0], pids[1]);
    const listening = serve.logs().filter((l) => l.msg === 'gatehouse listening');
    assert.equal(new Set(listening.map((l) => l.worker)).size, 2, 'two workers listening');
    for (const l of listening) assert.equal(`127.0.0.1:${String(l.grpc)}`, address);
  });

  it(`${K} calls on fresh connections: both workers decide some, and /metrics (from any worker) counts exactly ${K}`, async () => {
    const from = serve.mark();
    for (let i = 0; i < K; i++) assert.equal((await authorizeOnce()).allowed, true);
    await serve.waitForLine(() => serve.logs(from).filter((l) => l.name === 'audit').length >= K, from);
    const audits = serve.logs(from).filter((l) => l.name === 'audit');
    assert.equal(audits.length, K);
    assert.equal(new Set(audits.map((l) => l.worker)).size, 2, 'both workers served calls');
    // Several scrapes, each on its own connection, so each worker answers some: every one gives the whole group.
    for (let i = 0; i < 4; i++) {
      const text = await scrape();
      assert.equal(sample(text, `grpc_server_handled_total{${AUTHORIZE},grpc_code="OK"}`), K);
      assert.equal(sample(text, `grpc_server_started_total{${AUTHORIZE}}`), K);
      assert.equal(sample(text, 'gatehouse_decisions_total{issuer="loopback",rule="read-v1",decision="allow",door="grpc"}'), K);
      assert.equal(sample(text, `grpc_server_handling_seconds_count{${AUTHORIZE}}`), K, 'histograms sum too');
      // What every worker holds alike is not multiplied by the workers.
      assert.equal(sample(text, 'gatehouse_keys_held{issuer="loopback"}'), 2, 'the loopback issuer publishes two keys');
      assert.match(text, /^gatehouse_build_info\{version="[^"]+"\} 1$/m);
      assert.equal(sample(text, 'gatehouse_workers'), 2);
      assert.equal(sample(text, 'gatehouse_worker_restarts_total'), 0);
    }
  });

  it('the merged exposition is one `promtool check metrics` accepts, with the process metrics of the whole group', async () => {
    const res = await fetch(metricsUrl);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    const { status, output } = promtool(['check', 'metrics'], text);
    assert.equal(status, 0, output);
    assert.ok((sample(text, 'process_cpu_seconds_total') ?? 0) > 0);
    assert.equal(text.match(/^# TYPE grpc_server_handled_total /gm)?.length, 1, 'each metric once');
  });

  it('/healthz and /readyz answer from a worker', async () => {
    const base = metricsUrl.replace(/\/metrics$/, '');
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
    const ready = await fetch(`${base}/readyz`);
    assert.equal(ready.status, 200);
    assert.equal(((await ready.json()) as { draining: boolean }).draining, false);
  });

  it('SIGHUP to the primary: every worker reloads and logs it once', async () => {
    const from = serve.mark();
    writeFileSync(file, configYaml(issuer.issuer, held.url, 'read-v2', 2, revoked));
    serve.signal('SIGHUP');
    const reloaded = await fromEachWorker('config reloaded', from);
    assert.equal(reloaded.length, 2, 'one line per worker');
    for (const l of reloaded) assert.equal(l.trigger, 'SIGHUP');
    for (let i = 0; i < 4; i++) assert.equal((await authorizeOnce()).rule, 'read-v2');
  });

  it('a change of the file (one watch, in the primary): every worker reloads and logs it once', async () => {
    const from = serve.mark();
    writeFileSync(`${file}.tmp`, configYaml(issuer.issuer, held.url, 'read-v3', 2, revoked));
    renameSync(`${file}.tmp`, file);
    const reloaded = await fromEachWorker('config reloaded', from);
    assert.equal(reloaded.length, 2, 'one line per worker');
    for (const l of reloaded) assert.equal(l.trigger, 'file change');
    for (let i = 0; i < 4; i++) assert.equal((await authorizeOnce()).rule, 'read-v3');
  });

  it('gatehouse revoke (the revocation file, watched once by the primary): every worker loads the list and refuses', async () => {
    const from = serve.mark();
    const mallory = issuer.token({ claims: { sub: 'mallory', roles: ['Orders.Read'] } });
    assert.equal((await authorizeOnce(mallory)).allowed, true);
    const result = await runCli(['revoke', '--file', revoked, '--sub', 'mallory']);
    assert.equal(result.code, 0, result.stderr);
    const loaded = await fromEachWorker('revocations loaded', from);
    assert.equal(loaded.length, 2, 'one line per worker');
    for (const l of loaded) assert.equal(l.entries, 2);
    for (let i = 0; i < 4; i++) assert.equal((await authorizeOnce(mallory)).denial?.reason, 'TOKEN_REVOKED');
    assert.equal(sample(await scrape(), 'gatehouse_revocations_entries'), 2, 'the list in force, not a sum over workers');
  });

  it('a worker killed with SIGKILL is logged, counted and replaced; calls keep succeeding', async () => {
    const from = serve.mark();
    const victim = pids[0]!;
    process.kill(victim, 'SIGKILL');
    const died = await serve.waitForLog('worker exited unexpectedly; restarting it', from);
    assert.equal(died.level, 'error');
    assert.equal(died.pid, victim);
    assert.equal(died.signal, 'SIGKILL');
    assert.equal(typeof died.restart_in_ms, 'number');
    const restarted = await serve.waitForLog('worker restarted and serving', from);
    assert.notEqual(restarted.pid, victim);
    pids = [pids[1]!, restarted.pid as number];
    const text = await scrape();
    assert.equal(sample(text, 'gatehouse_worker_restarts_total'), 1);
    assert.equal(sample(text, 'gatehouse_workers'), 2);
    for (let i = 0; i < 4; i++) assert.equal((await authorizeOnce()).allowed, true);
  });

  it('SIGTERM to the primary: an in-flight call completes, every worker drains, the primary exits 0', async () => {
    const from = serve.mark();
    // Waits in a worker on the held issuer's key fetch until released.
    const token = issuer.token({ claims: { iss: held.url, roles: ['Orders.Read'] } });
    const call = authorizeOnce(token);
    await until(async () => {
      const text = await scrape();
      const started = sample(text, `grpc_server_started_total{${AUTHORIZE}}`) ?? 0;
      const handled = (text.match(new RegExp(`^grpc_server_handled_total\\{${AUTHORIZE},grpc_code="[A-Z_]+"\\} \\d+$`, 'gm')) ?? [])
        .map((l) => Number(l.split(' ').pop()))
        .reduce((a, b) => a + b, 0);
      return started - handled === 1;
    }, 'the call to be in flight');
    serve.signal('SIGTERM');
    await fromEachWorker('shutting down: finishing in-flight calls', from);
    held.release();
    const answer = await call;
    assert.equal(answer.allowed, true, 'the in-flight call was answered');
    const { code } = await serve.exited();
    assert.equal(code, 0, serve.stderr);
    assert.equal((await fromEachWorker('gatehouse stopped', from)).length, 2);
    const primaryLines = serve.logs(from).filter((l) => l.role === 'primary');
    assert.deepEqual(
      primaryLines.slice(-3).map((l) => [l.msg, l.code]),
      [
        ['worker stopped', 0],
        ['worker stopped', 0],
        ['all workers stopped', 0],
      ],
      'the primary exits after both workers, each having exited 0',
    );
  });
});

describe('server.workers is validated naming the key', () => {
  it('workers: auto is accepted (one per CPU)', async () => {
    const { dir, remove } = tempDir();
    try {
      const file = join(dir, 'gatehouse.yaml');
      writeFileSync(file, configYaml('http://127.0.0.1:1', 'http://127.0.0.1:2', 'read', 'auto'));
      const result = await runCli(['check-config', '--config', file]);
      assert.equal(result.code, 0, result.stderr);
    } finally {
      remove();
    }
  });

  it('workers: 1 runs one plain process: no primary, no worker label', async () => {
    const { dir, remove } = tempDir();
    writeFileSync(join(dir, 'gatehouse.yaml'), configYaml('http://127.0.0.1:1', 'http://127.0.0.1:2', 'read', 1));
    const one = new CliProcess(['serve', '--config', join(dir, 'gatehouse.yaml')], LISTEN_ON_FREE_PORTS);
    try {
      const listening = await one.waitForLog('gatehouse listening');
      assert.equal(listening.worker, undefined);
      assert.ok(!one.logs().some((l) => l.role === 'primary'), 'no primary logged anything');
      one.signal('SIGTERM');
      const exit = await one.exited();
      assert.equal(exit.code, 0, `${JSON.stringify(exit)} ${one.stderr} ${one.lines.join('\n')}`);
    } finally {
      await one.kill();
      remove();
    }
  });

  for (const bad of [0, 1.5, '"two"', -3]) {
    it(`workers: ${String(bad)} is refused before any port opens (exit 2)`, async () => {
      const { dir, remove } = tempDir();
      try {
        const file = join(dir, 'gatehouse.yaml');
        writeFileSync(file, configYaml('http://127.0.0.1:1', 'http://127.0.0.1:2', 'read', bad));
        const result = await runCli(['serve', '--config', file], { env: LISTEN_ON_FREE_PORTS });
        assert.equal(result.code, 2);
        assert.match(result.stderr, /server\.workers: must be a whole number from 1 to 256, or auto/);
      } finally {
        remove();
      }
    });
  }
});

describe('gatehouse serve with server.workers: 2 whose port is taken', () => {
  it('exits 1 once a worker cannot listen, and does not restart it', async () => {
    const { dir, remove } = tempDir();
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    try {
      const file = join(dir, 'gatehouse.yaml');
      writeFileSync(file, configYaml('http://127.0.0.1:1', 'http://127.0.0.1:2', 'read'));
      const port = (taken.address() as AddressInfo).port;
      const result = await runCli(['serve', '--config', file], {
        env: { GATEHOUSE_GRPC_ADDRESS: `127.0.0.1:${port}`, GATEHOUSE_HTTP_ADDRESS: '127.0.0.1:0' },
      });
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stderr, /gatehouse serve: could not start: worker \d+ exited before serving/);
      assert.doesNotMatch(result.stdout, /restarting it/);
    } finally {
      taken.close();
      remove();
    }
  });
});
