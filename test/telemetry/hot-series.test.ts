// The hot-path series against prom-client's own Counter and Histogram, fed the same values: the same exposition, byte
// for byte, and the same aggregation across workers (AggregatorRegistry, as server.workers uses it).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AggregatorRegistry, Counter, Histogram, Registry } from 'prom-client';
import { HotCounter, HotHistogram } from '../../src/telemetry/hot-series.js';

const BUCKETS = [0.001, 0.01, 0.1, 1];
// On a bound, between, below the first, above the last, zero, and a tiny one.
const VALUES = [0.001, 0.005, 0.0001, 7, 0, 1, 0.1, 0.00002, 2.5e-7];

function pair() {
  const hot = new Registry();
  const prom = new Registry();
  return {
    hot,
    prom,
    hotHistogram: new HotHistogram({
      name: 'h_seconds',
      help: 'A histogram.',
      labelNames: ['door', 'cache'],
      buckets: BUCKETS,
      registers: [hot],
    }),
    promHistogram: new Histogram({
      name: 'h_seconds',
      help: 'A histogram.',
      labelNames: ['door', 'cache'],
      buckets: BUCKETS,
      registers: [prom],
    }),
    hotCounter: new HotCounter({ name: 'c_total', help: 'A counter.', labelNames: ['issuer', 'rule', 'tenant'], registers: [hot] }),
    promCounter: new Counter({ name: 'c_total', help: 'A counter.', labelNames: ['issuer', 'rule', 'tenant'], registers: [prom] }),
  };
}

describe('hot-path series', () => {
  it('a HotHistogram exposes what a prom-client Histogram fed the same observations exposes, byte for byte', async () => {
    const p = pair();
    const grpc = p.hotHistogram.series({ door: 'grpc', cache: 'hit' });
    for (const v of VALUES) {
      grpc.observe(v);
      p.promHistogram.observe({ door: 'grpc', cache: 'hit' }, v);
    }
    // A caller's own key and the label set reach one series.
    p.hotHistogram.keyed('miss\0http', () => ({ door: 'http', cache: 'miss' })).observe(0.02);
    p.promHistogram.observe({ door: 'http', cache: 'miss' }, 0.02);
    p.hotHistogram.zero({ door: 'envoy', cache: 'hit' });
    p.promHistogram.zero({ door: 'envoy', cache: 'hit' });
    p.hotHistogram.observe({ door: 'http', cache: 'miss' }, 0.3);
    p.promHistogram.observe({ door: 'http', cache: 'miss' }, 0.3);
    assert.equal(await p.hot.getSingleMetricAsString('h_seconds'), await p.prom.getSingleMetricAsString('h_seconds'));
    assert.match(await p.hot.metrics(), /^h_seconds_bucket\{le="\+Inf",door="grpc",cache="hit"\} 9$/m);
  });

  it('a HotCounter counts on its series, and a scrape sees every count once, zeroed series included', async () => {
    const p = pair();
    p.hotCounter.zero({ issuer: 'idp', rule: 'none' });
    p.promCounter.inc({ issuer: 'idp', rule: 'none' }, 0);
    const a = p.hotCounter.series({ issuer: 'idp', rule: 'orders-read' }); // no tenant: exposed without the label
    a.count += 3;
    p.promCounter.inc({ issuer: 'idp', rule: 'orders-read' }, 3);
    assert.equal(await p.hot.getSingleMetricAsString('c_total'), await p.prom.getSingleMetricAsString('c_total'));
    // Counted after a scrape, and through the slow path: the next scrape adds exactly that.
    a.count += 1;
    p.hotCounter.inc({ issuer: 'idp', rule: 'orders-read' }, 2);
    p.hotCounter.keyed('k', () => ({ issuer: 'other', rule: 'r', tenant: 't1' })).count += 1;
    p.promCounter.inc({ issuer: 'idp', rule: 'orders-read' }, 3);
    p.promCounter.inc({ issuer: 'other', rule: 'r', tenant: 't1' }, 1);
    assert.equal(await p.hot.getSingleMetricAsString('c_total'), await p.prom.getSingleMetricAsString('c_total'));
    assert.equal(
      await p.hot.getSingleMetricAsString('c_total'),
      await p.prom.getSingleMetricAsString('c_total'),
      'a second scrape adds nothing',
    );
    assert.match(await p.hot.metrics(), /^c_total\{issuer="idp",rule="orders-read"\} 6$/m);
  });

  it('aggregates across workers as prom-client does', async () => {
    const workers = [pair(), pair()];
    workers.forEach((w, i) => {
      for (const v of VALUES) {
        w.hotHistogram.observe({ door: 'grpc', cache: 'hit' }, v * (i + 1));
        w.promHistogram.observe({ door: 'grpc', cache: 'hit' }, v * (i + 1));
      }
      w.hotCounter.inc({ issuer: 'idp', rule: 'r' }, i + 2);
      w.promCounter.inc({ issuer: 'idp', rule: 'r' }, i + 2);
    });
    const hot = AggregatorRegistry.aggregate(await Promise.all(workers.map((w) => w.hot.getMetricsAsJSON())));
    const prom = AggregatorRegistry.aggregate(await Promise.all(workers.map((w) => w.prom.getMetricsAsJSON())));
    assert.equal(await hot.metrics(), await prom.metrics());
    assert.match(await hot.metrics(), /^c_total\{issuer="idp",rule="r"\} 5$/m);
  });

  it('ignores an observation that is not a finite number instead of throwing on the hot path', async () => {
    const p = pair();
    const series = p.hotHistogram.series({ door: 'grpc', cache: 'hit' });
    for (const v of [Number.NaN, Infinity, -Infinity]) series.observe(v);
    series.observe(0.5);
    assert.match(await p.hot.metrics(), /^h_seconds_count\{door="grpc",cache="hit"\} 1$/m);
    assert.match(await p.hot.metrics(), /^h_seconds_sum\{door="grpc",cache="hit"\} 0.5$/m);
  });

  it('refuses, where it is recorded, a label it was not given and a counter going down; a reset empties held series in place', async () => {
    const p = pair();
    assert.throws(() => p.hotCounter.series({ issuer: 'idp', nope: 'x' } as never), /label "nope" is not one of \[issuer, rule, tenant\]/);
    assert.throws(() => p.hotHistogram.observe({ door: 'grpc', nope: 'x' } as never, 1), /label "nope"/);
    assert.throws(() => p.hotCounter.inc({ issuer: 'idp' }, -1), /only goes up/);
    assert.match(await p.hot.metrics(), /^# TYPE c_total counter$/m, 'and the scrape still works');
    const held = p.hotHistogram.series({ door: 'grpc', cache: 'hit' });
    held.observe(0.5);
    p.hot.resetMetrics();
    held.observe(0.002);
    assert.match(await p.hot.metrics(), /^h_seconds_count\{door="grpc",cache="hit"\} 1$/m);
    assert.match(await p.hot.metrics(), /^h_seconds_sum\{door="grpc",cache="hit"\} 0.002$/m);
  });
});
