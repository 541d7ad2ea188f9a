// The alert rules and the example Prometheus config, checked and unit-tested by the real promtool.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promtool } from '../helpers/prometheus.js';

const dir = fileURLToPath(new URL('../../deploy/prometheus/', import.meta.url));

describe('deploy/prometheus', () => {
  it('alerts.yml passes `promtool check rules`', () => {
    const { status, output } = promtool(['check', 'rules', `${dir}alerts.yml`]);
    assert.equal(status, 0, output);
    assert.match(output, /SUCCESS: 9 rules found/);
    const names = [...readFileSync(`${dir}alerts.yml`, 'utf8').matchAll(/- alert: (\w+)/g)].map((m) => m[1]);
    assert.deepEqual(names, [
      'GatehouseDown',
      'GatehouseDenialRateSpike',
      'GatehouseKeyFetchFailures',
      'GatehouseStaleKeys',
      'GatehouseLatencyHigh',
      'GatehouseTlsCertificateExpiresSoon',
      'GatehouseTlsReloadRefused',
      'GatehouseShedding',
      'GatehouseLogLinesDropped',
    ]);
  });

  it('alerts.test.yml passes `promtool test rules` (down, denial spike, key fetch failures, stale keys, p99, TLS expiry and refused reloads, shedding, dropped log lines)', () => {
    const { status, output } = promtool(['test', 'rules', `${dir}alerts.test.yml`]);
    assert.equal(status, 0, output);
    assert.match(output, /SUCCESS/);
  });

  it('the example prometheus.yml passes `promtool check config`', () => {
    const { status, output } = promtool(['check', 'config', `${dir}prometheus.yml`]);
    assert.equal(status, 0, output);
  });

  it('fails (never skips) with the package to install when the binaries are missing', () => {
    const helper = new URL('../helpers/prometheus.ts', import.meta.url).href;
    const run = spawnSync(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', `(await import('${helper}')).requireBinary('prometheus')`],
      {
        env: { PATH: '' },
        encoding: 'utf8',
      },
    );
    assert.notEqual(run.status, 0);
    assert.match(run.stderr, /apt-get install prometheus/);
  });
});
