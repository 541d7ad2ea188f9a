// The metrics as an SRE sees them: a real Prometheus scrapes a real gatehouse (startGatehouse on 127.0.0.1:0,
// tokens from a real OpenID provider), and its HTTP API must report exactly the mix of calls that was sent.
// The same run checks the exposition with promtool, the dashboard's metric names, label bounds and the logs.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { status } from '@grpc/grpc-js';
import { startGatehouse, type Gatehouse } from '../../src/app.js';
import { validateConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/telemetry/logger.js';
import { startOidcProvider, type TestOidcProvider } from '../helpers/oidc-provider.js';
import { promtool, startPrometheus, type RunningPrometheus } from '../helpers/prometheus.js';
import { dashboardMetricNames, parseExposition, valueOf } from './exposition.js';
import { connect, type TestClient } from './grpc-client.js';

const API = 'https://api.gatehouse.test';
const GET = '/orders.v1.Orders/GetOrder';
const PAY = '/billing.v1.Billing/Pay';
const DASHBOARD = new URL('../../deploy/grafana/gatehouse.json', import.meta.url).pathname;

describe('metrics scraped by a real Prometheus', () => {
  let op: TestOidcProvider;
  let gh: Gatehouse;
  let prom: RunningPrometheus;
  let client: TestClient;
  const lines: string[] = [];
  const tokens: string[] = [];

  before(async () => {
    op = await startOidcProvider({
      clients: [
        { client_id: 'svc-alpha', client_secret: 'a-secret', roles: ['orders.read'] },
        { client_id: 'svc-beta', client_secret: 'b-secret' },
      ],
    });
    const config = validateConfig({
      server: { grpc: '127.0.0.1:0', http: '127.0.0.1:0', shutdown_grace: '2s' },
      issuers: [{ id: 'partner', type: 'oidc', issuer: op.issuer, audiences: [API] }],
      rules: [{ id: 'orders-read', actions: ['/orders.v1.Orders/Get*'], any_roles: ['orders.read'] }],
      logging: { level: 'debug' },
    });
    const logger = createLogger({ level: 'debug', destination: { write: (line: string) => void lines.push(line) } });
    gh = await startGatehouse(config, { logger });
    [prom] = await Promise.all([startPrometheus(`127.0.0.1:${gh.httpPort}`), gh.prefetched]);
    client = connect(gh.grpcPort);

    const alpha = await op.token({ clientId: 'svc-alpha', resource: API });
    const beta = await op.token({ clientId: 'svc-beta', resource: API });
    const elsewhere = await op.token({ clientId: 'svc-alpha', resource: 'https://other.gatehouse.test' });
    tokens.push(alpha, beta, elsewhere);

    // The known mix: 7 allowed, 3 MISSING_ROLE, 2 NO_MATCHING_RULE, 1 AUDIENCE_MISMATCH, 1 ISSUER_NOT_TRUSTED
    // (14 decisions), then one
    // invalid call (empty action), one Verify and one call to a method no service has.
    for (let i = 0; i < 7; i++) assert.equal((await client.authorize(alpha, GET, `req-allow-${i}`)).allowed, true);
    for (let i = 0; i < 3; i++) assert.equal((await client.authorize(beta, GET)).denial?.reason, 'MISSING_ROLE');
    for (let i = 0; i < 2; i++) assert.equal((await client.authorize(alpha, PAY)).denial?.reason, 'NO_MATCHING_RULE');
    assert.equal((await client.authorize(elsewhere, GET)).denial?.reason, 'AUDIENCE_MISMATCH');
    const untrusted = [
      { alg: 'RS256', kid: 'k' },
      { iss: 'https://untrusted.example', sub: 'x', aud: API, exp: 4e9 },
    ]
      .map((part) => Buffer.from(JSON.stringify(part)).toString('base64url'))
      .concat('c2ln')
      .join('.');
    tokens.push(untrusted);
    assert.equal((await client.authorize(untrusted, GET)).denial?.reason, 'ISSUER_NOT_TRUSTED');
    await assert.rejects(client.authorize(alpha, ''), { code: status.INVALID_ARGUMENT });
    assert.equal((await client.verify(alpha)).valid, true);
    assert.equal(await client.rawCall('/gatehouse.v1.AuthService/Nope'), status.UNIMPLEMENTED);
    await prom.waitForScrapeAfter(Date.now());
  });

  after(async () => {
    client?.close();
    await prom?.stop();
    await gh?.shutdown();
    await op?.close();
  });

  const byLabel = async (promql: string, label: string) =>
    Object.fromEntries((await prom.query(promql)).map((r) => [r.metric[label] ?? '', r.value]));

  it('reports denials by reason and issuer, exactly as sent', async () => {
    assert.deepEqual(await byLabel('sum by (reason) (gatehouse_denials_total)', 'reason'), {
      MISSING_ROLE: 3,
      NO_MATCHING_RULE: 2,
      AUDIENCE_MISMATCH: 1,
      ISSUER_NOT_TRUSTED: 1,
    });
    // A token refused once routed to an issuer counts under it (the wrong audience one); a token no configured
    // issuer accepted is labelled "unknown", never with its iss.
    assert.deepEqual(await byLabel('sum by (issuer) (gatehouse_denials_total)', 'issuer'), { partner: 6, unknown: 1 });
    assert.deepEqual(await byLabel('sum by (decision) (gatehouse_decisions_total)', 'decision'), { allow: 7, deny: 7 });
  });

  it('counts every decision in the authorize histogram, split by decision-cache hit and miss', async () => {
    const [total] = await prom.query('sum(gatehouse_authorize_duration_seconds_count)');
    assert.equal(total?.value, 14);
    // First call of each (token, action) pair misses: alpha/GET, beta/GET, alpha/PAY, elsewhere/GET, untrusted/GET.
    assert.deepEqual(await byLabel('sum by (cache) (gatehouse_authorize_duration_seconds_count)', 'cache'), { hit: 9, miss: 5 });
    const [inf] = await prom.query('sum(gatehouse_authorize_duration_seconds_bucket{le="+Inf"})');
    assert.equal(inf?.value, 14);
    const [verify] = await prom.query('sum(gatehouse_verify_duration_seconds_count)');
    assert.equal(verify?.value, 1);
  });

  it('records gRPC statuses with Go-style code names, and no series for an unknown method', async () => {
    const handled = await byLabel(
      'grpc_server_handled_total{grpc_method="Authorize", grpc_code=~"OK|InvalidArgument|Unimplemented"}',
      'grpc_code',
    );
    assert.deepEqual(handled, { OK: 14, InvalidArgument: 1, Unimplemented: 0 });
    const [started] = await prom.query('grpc_server_started_total{grpc_method="Authorize"}');
    assert.equal(started?.value, 15);
    // grpc-js answered UNIMPLEMENTED itself, before any interceptor: the label set did not grow.
    assert.deepEqual(await prom.query('grpc_server_started_total{grpc_method="Nope"}'), []);
    const methods = await byLabel('count by (grpc_method) (grpc_server_started_total)', 'grpc_method');
    assert.ok(!('Nope' in methods));
    for (const m of ['Verify', 'Authorize', 'AuthorizeBatch', 'Check', 'Watch', 'ServerReflectionInfo'])
      assert.equal(methods[m] !== undefined, true, m);
  });

  it('reports key fetches, keys held, key age and cache lookups', async () => {
    const [fetches] = await prom.query('gatehouse_key_fetches_total{issuer="partner", outcome="success"}');
    assert.ok((fetches?.value ?? 0) >= 1);
    const [held] = await prom.query('gatehouse_keys_held{issuer="partner"}');
    assert.ok((held?.value ?? 0) >= 1);
    const [age] = await prom.query('gatehouse_key_set_age_seconds{issuer="partner"}');
    assert.ok(age !== undefined && age.value >= 0 && age.value < 60);
    const [stale] = await prom.query('gatehouse_issuers_on_stale_keys');
    assert.equal(stale?.value, 0);
    const lookups = await byLabel('gatehouse_cache_lookups_total{cache="decision"}', 'result');
    assert.deepEqual(lookups, { hit: 9, miss: 5 });
    const [entries] = await prom.query('gatehouse_cache_entries{cache="decision"}');
    assert.equal(entries?.value, 3); // alpha/GET, beta/GET, alpha/PAY; token failures are not cached
    const [build] = await prom.query('gatehouse_build_info');
    assert.match(build?.metric.version ?? '', /^\d+\.\d+\.\d+/);
    // Node's default process metrics, on gatehouse's own registry.
    const [cpu] = await prom.query('process_cpu_user_seconds_total');
    assert.ok((cpu?.value ?? 0) > 0, 'process_cpu_user_seconds_total scraped');
    const [heap] = await prom.query('nodejs_heap_size_used_bytes');
    assert.ok((heap?.value ?? 0) > 0, 'nodejs_heap_size_used_bytes scraped');
  });

  it('serves an exposition that `promtool check metrics` accepts', async () => {
    const res = await fetch(`http://127.0.0.1:${gh.httpPort}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const { status: exit, output } = promtool(['check', 'metrics'], await res.text());
    assert.equal(exit, 0, output);
  });

  it('exposes every metric the Grafana dashboard queries', async () => {
    const exposed = new Set(parseExposition(await (await fetch(`http://127.0.0.1:${gh.httpPort}/metrics`)).text()).map((s) => s.name));
    const queried = dashboardMetricNames(DASHBOARD);
    assert.ok(queried.size >= 8);
    for (const [expr, names] of queried) {
      assert.ok(names.length > 0, `no metric selector found in ${expr}`);
      for (const name of names) assert.ok(exposed.has(name), `the dashboard queries ${name}, which /metrics does not expose`);
    }
  });

  it('labels nothing with a subject, an action, a kid or a token', async () => {
    const samples = parseExposition(await (await fetch(`http://127.0.0.1:${gh.httpPort}/metrics`)).text());
    const forbidden = ['svc-alpha', 'svc-beta', GET, PAY, ...op.currentKids()];
    for (const sample of samples) {
      for (const value of Object.values(sample.labels)) {
        assert.ok(!forbidden.includes(value), `${sample.name} has a label value ${value}`);
        assert.ok(!tokens.some((t) => t.split('.').some((part) => value.includes(part))), `${sample.name} carries token material`);
      }
    }
    assert.equal(valueOf(samples, 'gatehouse_denials_total', { issuer: 'unknown', reason: 'ISSUER_NOT_TRUSTED' }), 1);
    assert.equal(valueOf(samples, 'gatehouse_denials_total', { issuer: 'partner', reason: 'AUDIENCE_MISMATCH' }), 1);
  });

  it('ties the request id to subject, issuer and action in the logs, and never writes token material', () => {
    const parsed = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    const audit = parsed.find((l) => l.request_id === 'req-allow-3' && l.msg === 'decision');
    assert.ok(audit, 'no audit line for req-allow-3');
    assert.equal(audit.subject, 'svc-alpha');
    assert.equal(audit.issuer, 'partner');
    assert.equal(audit.action, GET);
    assert.equal(audit.decision, 'allow');
    assert.ok(lines.length >= 14);
    for (const token of tokens) {
      for (const [i, segment] of token.split('.').entries()) {
        const hit = lines.find((line) => line.includes(segment));
        assert.equal(hit, undefined, `token segment ${i} appears in a log line: ${hit?.slice(0, 200)}`);
      }
    }
  });
});
