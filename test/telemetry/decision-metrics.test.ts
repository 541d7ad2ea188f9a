// Decision and key metrics from the hooks and observer, read back from the registry's own exposition: bounded
// labels (configured issuer ids or "unknown", tenant only when configured), scrape-time gauges on a frozen clock.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AuthorizeOutcome } from '../../src/decisions/outcome.js';
import { decisionMetrics } from '../../src/telemetry/decision-metrics.js';
import { createMetrics, DECISION_BUCKETS, type KeySourceState } from '../../src/telemetry/metrics.js';
import type { Principal } from '../../src/contract/principal.js';
import { parseExposition, valueOf } from './exposition.js';

const NOW = Date.UTC(2026, 10, 1, 12, 0, 0);

function principal(issuerId: string, tenantId = ''): Principal {
  return {
    issuer: `https://${issuerId}.test`,
    issuerId,
    subject: 'user-42',
    tenantId,
    objectId: '',
    clientId: '',
    roles: [],
    scopes: [],
    groups: [],
    groupsOverage: false,
    appOnly: true,
    expiresAt: NOW / 1000 + 600,
    tokenVersion: '',
    claims: {},
  };
}

const allowed = (p: Principal, cached = false): AuthorizeOutcome => ({
  allowed: true,
  principal: p,
  issuerId: p.issuerId,
  rule: 'orders-read',
  cacheForMs: 1000,
  cached,
});
const tokenFailure: AuthorizeOutcome = {
  allowed: false,
  principal: undefined,
  issuerId: '',
  reason: 'TOKEN_EXPIRED',
  message: 'expired',
  rule: '',
  cacheForMs: 0,
  cached: false,
};

function setup(tenantLabel: boolean, sources: KeySourceState[] = []) {
  const metrics = createMetrics({
    version: 'test',
    tenantLabel,
    keySources: () => sources,
    decisionCacheSize: () => 7,
    now: () => NOW,
    processMetrics: false,
  });
  const recorder = decisionMetrics(metrics, { isConfiguredIssuer: (id) => id === 'contoso' });
  return { metrics, recorder, scrape: async () => parseExposition((await metrics.exposition()).body) };
}

describe('decision metrics', () => {
  it('labels decisions by configured issuer, rule and decision; no tenant unless configured', async () => {
    const { recorder, scrape } = setup(false);
    recorder.onAuthorize('/a.v1.A/Get', allowed(principal('contoso', 'tenant-1')), 0.0001, 'r1', 'grpc');
    recorder.onAuthorize('/a.v1.A/Get', allowed(principal('contoso', 'tenant-1'), true), 0.00002, 'r2', 'grpc');
    recorder.onAuthorize('/a.v1.A/Get', tokenFailure, 0.0003, 'r3', 'grpc');
    const samples = await scrape();
    assert.equal(valueOf(samples, 'gatehouse_decisions_total', { issuer: 'contoso', rule: 'orders-read', decision: 'allow' }), 2);
    assert.equal(valueOf(samples, 'gatehouse_decisions_total', { decision: 'allow', door: 'grpc' }), 2, 'the door is a label');
    assert.equal(valueOf(samples, 'gatehouse_denials_total', { issuer: 'unknown', reason: 'TOKEN_EXPIRED' }), 1);
    assert.ok(!samples.some((s) => 'tenant' in s.labels));
    assert.equal(valueOf(samples, 'gatehouse_authorize_duration_seconds_count', { cache: 'hit' }), 1);
    assert.equal(valueOf(samples, 'gatehouse_authorize_duration_seconds_count', { cache: 'miss' }), 2);
    assert.equal(valueOf(samples, 'gatehouse_authorize_duration_seconds_bucket', { cache: 'hit', le: '0.00005' }), 1);
    assert.equal(valueOf(samples, 'gatehouse_cache_lookups_total', { cache: 'decision', result: 'hit' }), 1);
    assert.equal(valueOf(samples, 'gatehouse_cache_lookups_total', { cache: 'decision', result: 'miss' }), 2);
    assert.equal(valueOf(samples, 'gatehouse_cache_entries', { cache: 'decision' }), 7);
    for (const s of samples) assert.ok(!Object.values(s.labels).some((v) => v === 'user-42' || v.includes('/a.v1.A')));
  });

  it('a token refused after it was routed to an issuer counts under that issuer', async () => {
    const { recorder, scrape } = setup(false);
    recorder.onAuthorize('/a.v1.A/Get', { ...tokenFailure, issuerId: 'contoso' }, 0.0003, 'r1', 'grpc');
    const samples = await scrape();
    assert.equal(valueOf(samples, 'gatehouse_denials_total', { issuer: 'contoso', reason: 'TOKEN_EXPIRED' }), 1);
  });

  it('buckets resolve from 50µs to 1s', () => {
    assert.equal(DECISION_BUCKETS[0], 0.00005);
    assert.equal(DECISION_BUCKETS.at(-1), 1);
  });

  it('adds the tenant label when metrics.tenant_label is on; an unconfigured issuer id is "unknown"', async () => {
    const { recorder, scrape } = setup(true);
    recorder.onAuthorize('x', allowed(principal('contoso', 'tenant-1')), 0.001, 'r1', 'grpc');
    recorder.onAuthorize('x', allowed(principal('attacker-chosen')), 0.001, 'r2', 'grpc');
    const samples = await scrape();
    assert.equal(valueOf(samples, 'gatehouse_decisions_total', { issuer: 'contoso', tenant: 'tenant-1' }), 1);
    assert.equal(valueOf(samples, 'gatehouse_decisions_total', { issuer: 'unknown', tenant: '' }), 1);
  });

  it('reports key fetches, lookups, suppressed refetches and keys held; unknown issuer ids collapse', async () => {
    const { recorder, scrape } = setup(false);
    recorder.setIssuers(new Set(['contoso']));
    let samples = await scrape();
    assert.equal(valueOf(samples, 'gatehouse_key_fetches_total', { issuer: 'contoso', outcome: 'failure' }), 0);
    assert.equal(valueOf(samples, 'gatehouse_key_refetches_suppressed_total', { issuer: 'contoso' }), 0);
    recorder.observer.keyFetch('contoso', 'success', 0.02);
    recorder.observer.keyFetch('elsewhere', 'failure', 0.5, 'HTTP 503');
    recorder.observer.keyLookup('contoso', 'hit');
    recorder.observer.keyLookup('contoso', 'miss');
    recorder.observer.refetchSuppressed('contoso');
    recorder.observer.keySetState('contoso', { keys: 3, stale: false, fetchedAt: NOW });
    samples = await scrape();
    assert.equal(valueOf(samples, 'gatehouse_key_fetches_total', { issuer: 'contoso', outcome: 'success' }), 1);
    assert.equal(valueOf(samples, 'gatehouse_key_fetches_total', { issuer: 'unknown', outcome: 'failure' }), 1);
    assert.equal(valueOf(samples, 'gatehouse_key_fetch_duration_seconds_count', { issuer: 'contoso' }), 1);
    assert.equal(valueOf(samples, 'gatehouse_cache_lookups_total', { cache: 'key', result: 'hit' }), 1);
    assert.equal(valueOf(samples, 'gatehouse_key_refetches_suppressed_total', { issuer: 'contoso' }), 1);
    assert.equal(valueOf(samples, 'gatehouse_keys_held', { issuer: 'contoso' }), 3);
    assert.equal(valueOf(samples, 'gatehouse_cache_entries', { cache: 'key' }), 3);
    recorder.setIssuers(new Set(['fabrikam']));
    assert.equal(valueOf(await scrape(), 'gatehouse_keys_held', { issuer: 'contoso' }), undefined);
  });

  it('computes key age and stale issuers at scrape time from the key sources', async () => {
    const sources: KeySourceState[] = [
      { issuerId: 'contoso', usable: true, stale: false, lastSuccessAt: NOW - 90_000 },
      { issuerId: 'contoso', usable: true, stale: true, lastSuccessAt: NOW - 7_200_000 },
      { issuerId: 'partner', usable: true, stale: false, lastSuccessAt: NOW - 5_000 },
      { issuerId: 'loading', usable: false, stale: false, lastSuccessAt: undefined },
    ];
    const { scrape } = setup(false, sources);
    let samples = await scrape();
    assert.equal(valueOf(samples, 'gatehouse_key_set_age_seconds', { issuer: 'contoso' }), 7200);
    assert.equal(valueOf(samples, 'gatehouse_key_set_age_seconds', { issuer: 'partner' }), 5);
    assert.equal(valueOf(samples, 'gatehouse_key_set_age_seconds', { issuer: 'loading' }), undefined);
    assert.equal(valueOf(samples, 'gatehouse_issuers_on_stale_keys'), 1);
    sources.splice(0, 2);
    samples = await scrape();
    assert.equal(valueOf(samples, 'gatehouse_key_set_age_seconds', { issuer: 'contoso' }), undefined);
    assert.equal(valueOf(samples, 'gatehouse_issuers_on_stale_keys'), 0);
  });

  it('registers nothing globally: two instances coexist', async () => {
    const a = setup(false);
    const b = setup(false);
    a.metrics.countReload('success');
    assert.equal(valueOf(await a.scrape(), 'gatehouse_config_reloads_total', { outcome: 'success' }), 1);
    assert.equal(valueOf(await b.scrape(), 'gatehouse_config_reloads_total', { outcome: 'success' }), 0);
  });
});
