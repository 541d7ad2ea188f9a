// Three real `gatehouse serve` processes on loopback ports behind one `ipv4:` list, trusting one loopback issuer,
// under steady load from an AuthClient and from a service protected by the server interceptor (8 calls in
// flight in all). One replica is killed (SIGKILL) mid-load and started again on its port, while its provider holds
// back the first key fetch; then all three are rolled (SIGTERM, restart, next). The callers
// see no failed call and no KEYS_UNAVAILABLE, and each replica's own /metrics shows the load leaving it and
// coming back.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import type { ServiceError } from '@grpc/grpc-js';
import { Registry } from 'prom-client';
import { createAuthClient, createServerInterceptor, reasonOf, type AuthClient } from '../../src/client/index.js';
import { CliProcess, tempDir } from '../cli/cli-process.js';
import { parseExposition, valueOf } from '../telemetry/exposition.js';
import { LOOPBACK_AUDIENCE, startLoopbackIssuer, type LoopbackIssuer } from '../verification/loopback-issuer.js';
import { bearer, Echo, startEchoServer, type EchoServer } from './fixtures/echo-service.js';

const ACTION = '/orders.v1.Orders/GetOrder';
/** Calls in flight from each of the two callers. */
const IN_FLIGHT = 4;
/** Calls a replica must answer before the test counts it as taking load. */
const SOME_LOAD = 30;

function configYaml(issuer: string): string {
  return `server:
  shutdown_grace: 5s
issuers:
  - id: loop
    type: oidc
    issuer: "${issuer}"
    audiences: ["${LOOPBACK_AUDIENCE}"]
keys:
  fetch_timeout: 15s
rules:
  - { id: read, actions: ["${ACTION}", "/test.v1.Echo/*"], any_roles: [Orders.Read] }
`;
}

interface Replica {
  readonly serve: CliProcess;
  readonly grpcPort: number;
  readonly metricsUrl: string;
}

async function startReplica(file: string, grpcPort: number, processes: CliProcess[]): Promise<Replica> {
  const serve = new CliProcess(['serve', '--config', file], {
    GATEHOUSE_GRPC_ADDRESS: `127.0.0.1:${grpcPort}`,
    GATEHOUSE_HTTP_ADDRESS: '127.0.0.1:0',
  });
  processes.push(serve);
  const listening = await serve.waitForLog('gatehouse listening');
  return { serve, grpcPort: Number(listening.grpc), metricsUrl: `http://127.0.0.1:${String(listening.http)}/metrics` };
}

/** AuthService calls this replica has counted on its own /metrics: started, and handled by status code. */
async function served(replica: Replica): Promise<{ started: number; ok: number; failed: number }> {
  const samples = parseExposition(await (await fetch(replica.metricsUrl)).text());
  const auth = { grpc_service: 'gatehouse.v1.AuthService', grpc_method: 'Authorize' };
  const handled = samples.filter((s) => s.name === 'grpc_server_handled_total' && s.labels.grpc_method === 'Authorize');
  return {
    started: valueOf(samples, 'grpc_server_started_total', auth) ?? 0,
    ok: handled.filter((s) => s.labels.grpc_code === 'OK').reduce((sum, s) => sum + s.value, 0),
    failed: handled.filter((s) => s.labels.grpc_code !== 'OK').reduce((sum, s) => sum + s.value, 0),
  };
}

async function until(condition: () => Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Steady load: `inFlight` loops, each starting its next call when the last one ends. */
function drive(inFlight: number, call: () => Promise<void>, failures: string[]): { calls: () => number; stop: () => Promise<void> } {
  let stopped = false;
  let calls = 0;
  const loop = async () => {
    while (!stopped) {
      try {
        await call();
      } catch (err) {
        failures.push(err instanceof Error ? err.message : String(err));
      }
      calls += 1;
    }
  };
  const loops = Array.from({ length: inFlight }, loop);
  return {
    calls: () => calls,
    stop: async () => {
      stopped = true;
      await Promise.all(loops);
    },
  };
}

describe('three gatehouse replicas behind an ipv4: list, under load: a replica dies, starts cold, rolls', () => {
  let issuer: LoopbackIssuer;
  let file: string;
  let remove: () => void;
  const replicas: Replica[] = [];
  /** Every process started, for after(): a replacement that failed to come up is not among `replicas`. */
  const processes: CliProcess[] = [];
  let direct: AuthClient;
  let forService: AuthClient;
  let service: EchoServer;
  let echo: Echo;
  const registry = new Registry();
  const failures: string[] = [];
  let keysUnavailable = 0;
  const loads: ReturnType<typeof drive>[] = [];

  const waitForLoad = (index: number, what: string) =>
    served(replicas[index]!).then((from) =>
      until(async () => (await served(replicas[index]!)).ok - from.ok >= SOME_LOAD, what).then(() => undefined),
    );
  const report = async (t: TestContext) => {
    const resends = (await registry.metrics()).split('\n').filter((l) => l.startsWith('gatehouse_client_resends_total{'));
    t.diagnostic(`calls: ${loads.map((l) => l.calls()).join(' + ')}; ${resends.join(', ') || 'no re-sends'}`);
  };

  before(async () => {
    issuer = await startLoopbackIssuer();
    let dir: string;
    ({ dir, remove } = tempDir());
    file = join(dir, 'gatehouse.yaml');
    writeFileSync(file, configYaml(issuer.issuer));
    replicas.push(...(await Promise.all([0, 0, 0].map((port) => startReplica(file, port, processes)))));
    const address = `ipv4:${replicas.map((r) => `127.0.0.1:${r.grpcPort}`).join(',')}`;
    // No local cache: every call is a round trip. A deadline above this busy machine's worst pauses.
    direct = createAuthClient({ address, cache: false, deadlineMs: 5000, registry });
    forService = createAuthClient({ address, cache: false, deadlineMs: 5000, registry });
    service = await startEchoServer([createServerInterceptor({ authClient: forService })]);
    echo = new Echo(service.address);
    const token = issuer.token({ claims: { roles: ['Orders.Read'] } });
    loads.push(
      drive(
        IN_FLIGHT,
        async () => {
          const decision = await direct.authorize(token, ACTION);
          if (decision.allowed) return;
          if (decision.reason === 'KEYS_UNAVAILABLE') keysUnavailable += 1;
          throw new Error(`denied: ${decision.reason}`);
        },
        failures,
      ),
      drive(
        IN_FLIGHT,
        async () => {
          try {
            await echo.unary('Say', 'hello', bearer(token), { deadline: Date.now() + 10_000 });
          } catch (err) {
            if (reasonOf(err as ServiceError) === 'KEYS_UNAVAILABLE') keysUnavailable += 1;
            throw err;
          }
        },
        failures,
      ),
    );
    for (const index of [0, 1, 2]) await waitForLoad(index, `replica ${index} takes load`);
  });
  after(async () => {
    await Promise.all(loads.map((l) => l.stop()));
    echo?.close();
    await service?.close();
    direct?.close();
    forService?.close();
    await Promise.all(processes.map((p) => p.kill()));
    issuer?.release();
    await issuer?.close();
    remove?.();
  });

  it('SIGKILL one mid-load, start it cold on its port: no failed call, no KEYS_UNAVAILABLE; the survivors take its load, then it takes some back', async (t) => {
    const victim = replicas[1]!;
    victim.serve.signal('SIGKILL');
    assert.equal((await victim.serve.exited()).signal, 'SIGKILL');
    await Promise.all([waitForLoad(0, 'survivor 0 takes load'), waitForLoad(2, 'survivor 2 takes load')]);

    // Warm start: the provider holds back the new replica's first key fetch, so calls surely reach it before its
    // keys: they wait for the fetch (keys.fetch_timeout bounds it), and none is answered KEYS_UNAVAILABLE.
    issuer.hold();
    try {
      replicas[1] = await startReplica(file, victim.grpcPort, processes);
      await until(async () => (await served(replicas[1]!)).started >= 1, 'calls reach the new replica during its first key fetch');
      const { ok, failed } = await served(replicas[1]!);
      assert.deepEqual({ ok, failed }, { ok: 0, failed: 0 }, 'parked on the key fetch, unanswered');
    } finally {
      issuer.release();
    }
    await until(async () => (await served(replicas[1]!)).ok >= SOME_LOAD, 'the restarted replica takes load again');
    const samples = parseExposition(await (await fetch(replicas[1]!.metricsUrl)).text());
    assert.equal(valueOf(samples, 'gatehouse_denials_total', { reason: 'KEYS_UNAVAILABLE' }) ?? 0, 0);
    await report(t);
    assert.deepEqual(failures, []);
    assert.equal(keysUnavailable, 0);
  });

  it('a graceful rollout (SIGTERM one at a time, each restarted before the next): no failed call', async (t) => {
    for (const index of [0, 1, 2]) {
      const old = replicas[index]!;
      old.serve.signal('SIGTERM');
      assert.equal((await old.serve.exited()).code, 0);
      replicas[index] = await startReplica(file, old.grpcPort, processes);
      await until(async () => (await served(replicas[index]!)).ok >= SOME_LOAD, `rolled replica ${index} takes load`);
    }
    await report(t);
    assert.deepEqual(failures, []);
    assert.equal(keysUnavailable, 0);
  });
});
