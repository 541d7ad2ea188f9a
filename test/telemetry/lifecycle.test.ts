// Operations endpoints over a gatehouse's life: /metrics on server.http, reloads counted by outcome, and a
// graceful shutdown that turns /readyz and gRPC health to not-serving before draining, failing no in-flight call.
// Real servers on 127.0.0.1:0 and a real OpenID provider; the only fake is a gate in front of its key fetches.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startGatehouse } from '../../src/app.js';
import { validateConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/telemetry/logger.js';
import type { Fetch } from '../../src/verification/fetch-json.js';
import { until } from '../helpers/gatehouse.js';
import { startOidcProvider, type TestOidcProvider } from '../helpers/oidc-provider.js';
import { parseExposition, valueOf } from './exposition.js';
import { connect } from './grpc-client.js';

const API = 'https://api.gatehouse.test';
const GET = '/orders.v1.Orders/GetOrder';
const RULES = [{ id: 'orders-read', actions: ['/orders.v1.Orders/Get*'], any_roles: ['orders.read'] }];

/** A fetch that waits until the test opens the gate. */
function gatedFetch(): { fetch: Fetch; open(): void } {
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  return { fetch: async (url, init) => (await gate, globalThis.fetch(url, init)), open };
}

describe('gatehouse lifecycle telemetry', () => {
  let op: TestOidcProvider;
  let token: string;
  const logger = createLogger({ level: 'silent', destination: { write() {} } });
  const configFor = (overrides: Record<string, unknown> = {}) =>
    validateConfig({
      server: { grpc: '127.0.0.1:0', http: '127.0.0.1:0', shutdown_grace: '5s' },
      issuers: [{ id: 'partner', type: 'oidc', issuer: op.issuer, audiences: [API] }],
      rules: RULES,
      ...overrides,
    });

  before(async () => {
    op = await startOidcProvider({ clients: [{ client_id: 'svc-alpha', client_secret: 's', roles: ['orders.read'] }] });
    token = await op.token({ clientId: 'svc-alpha', resource: API });
  });
  after(() => op.close());

  it('counts reloads by outcome on /metrics, and follows a change of issuers', async () => {
    const gh = await startGatehouse(configFor(), { logger, version: '9.9.9-test' });
    await gh.prefetched;
    const scrape = async () => {
      const res = await fetch(`http://127.0.0.1:${gh.httpPort}/metrics`);
      assert.equal(res.status, 200);
      return parseExposition(await res.text());
    };
    try {
      let samples = await scrape();
      assert.equal(valueOf(samples, 'gatehouse_config_reloads_total', { outcome: 'success' }), 0);
      assert.equal(valueOf(samples, 'gatehouse_build_info', { version: '9.9.9-test' }), 1);
      assert.ok((valueOf(samples, 'gatehouse_keys_held', { issuer: 'partner' }) ?? 0) > 0);

      await gh.reload(configFor({ rules: [...RULES, { id: 'open', actions: ['/open.v1.*/*'], public: true }] }));
      await assert.rejects(gh.reload(configFor({ rules: [{ id: 'bad', actions: ['/x.v1.X/*'], issuers: ['nobody'] }] })), {
        code: 'ERR_POLICY_INVALID',
      });
      await gh.reload(configFor({ issuers: [{ id: 'partner-b', type: 'oidc', issuer: op.issuer, audiences: [API] }] }));

      samples = await scrape();
      assert.equal(valueOf(samples, 'gatehouse_config_reloads_total', { outcome: 'success' }), 2);
      assert.equal(valueOf(samples, 'gatehouse_config_reloads_total', { outcome: 'failure' }), 1);
      // The new issuer id labels its fetches at once; the removed one's gauges are gone.
      assert.equal(valueOf(samples, 'gatehouse_key_fetches_total', { issuer: 'partner-b', outcome: 'success' }), 1);
      assert.equal(valueOf(samples, 'gatehouse_keys_held', { issuer: 'partner' }), undefined);
      assert.ok(samples.some((s) => s.name === 'gatehouse_key_set_age_seconds' && s.labels.issuer === 'partner-b'));
      assert.ok(!samples.some((s) => s.name === 'gatehouse_key_set_age_seconds' && s.labels.issuer === 'partner'));
    } finally {
      await gh.shutdown();
    }
  });

  it('on shutdown: /readyz 503 and health NOT_SERVING first, then the in-flight call completes', async () => {
    const gate = gatedFetch();
    const gh = await startGatehouse(configFor(), { logger, fetch: gate.fetch });
    const readyz = () => fetch(`http://127.0.0.1:${gh.httpPort}/readyz`);
    const client = connect(gh.grpcPort);
    try {
      // Still within the first key fetch: ready (the issuer is loading).
      assert.equal((await readyz()).status, 200);
      const statuses: string[] = [];
      const stopWatching = client.watchHealth('gatehouse.v1.AuthService', (s) => statuses.push(s));
      await until(() => statuses.includes('SERVING'), 'health SERVING');

      // This call waits for the issuer's keys, which the gate holds back.
      const inFlight = client.authorize(token, GET);
      const started = async () =>
        valueOf(parseExposition((await gh.metrics.exposition()).body), 'grpc_server_started_total', { grpc_method: 'Authorize' }) === 1;
      await until(started, 'the Authorize call to reach the server');

      const stopped = gh.shutdown();
      const draining = await readyz();
      assert.equal(draining.status, 503);
      assert.equal(((await draining.json()) as { draining: boolean }).draining, true);
      await until(() => statuses.at(-1) === 'NOT_SERVING', 'health NOT_SERVING');
      stopWatching();

      gate.open();
      const response = await inFlight;
      assert.equal(response.allowed, true);
      await stopped;
      await assert.rejects(readyz());
    } finally {
      client.close();
      gate.open();
    }
  });
});
