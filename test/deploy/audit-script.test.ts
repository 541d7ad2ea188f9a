// scripts/audit.sh, the supply-chain step of `make check`, with the audit service faked at the network edge (an
// `npm` first on PATH that prints a canned `npm audit --json` answer): a high or critical advisory fails it, a
// moderate one does not, and an unreachable service is said out loud and does not fail. The lockfile check runs
// on the repository's own package-lock.json.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { after, describe, it } from 'node:test';

const SCRIPT = new URL('../../scripts/audit.sh', import.meta.url).pathname;

function report(counts: Partial<Record<'critical' | 'high' | 'moderate', number>>, vulnerabilities: Record<string, unknown> = {}) {
  const all = { info: 0, low: 0, moderate: 0, high: 0, critical: 0, ...counts };
  return {
    auditReportVersion: 2,
    vulnerabilities,
    metadata: { vulnerabilities: { ...all, total: all.moderate + all.high + all.critical } },
  };
}

describe('scripts/audit.sh', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-audit-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** Runs the script with an `npm` that answers `answer` (JSON) and exits `code`, as npm audit does. */
  const run = (answer: unknown, code: number) => {
    writeFileSync(join(dir, 'answer.json'), JSON.stringify(answer));
    writeFileSync(join(dir, 'npm'), `#!/bin/sh\n[ "$1" = audit ] || exit 97\ncat "${join(dir, 'answer.json')}"\nexit ${code}\n`);
    chmodSync(join(dir, 'npm'), 0o755);
    const result = spawnSync('bash', [SCRIPT], {
      encoding: 'utf8',
      env: { ...process.env, PATH: `${dir}${delimiter}${process.env.PATH}` },
    });
    return { code: result.status, out: result.stdout + result.stderr };
  };

  it('passes with no advisory, and says the lockfile pins every package', () => {
    const { code, out } = run(report({}), 0);
    assert.equal(code, 0, out);
    assert.match(out, /package-lock\.json pins \d+ packages, each with an integrity hash/);
    assert.match(out, /0 critical, 0 high, 0 moderate.*no high or critical advisory/);
  });

  it('passes with a moderate advisory', () => {
    const { code, out } = run(report({ moderate: 1 }, { yaml: { name: 'yaml', severity: 'moderate', range: '<2.2.2', via: [] } }), 1);
    assert.equal(code, 0, out);
  });

  it('fails on a high or a critical advisory, naming the package and the advisory', () => {
    const via = [{ title: 'Prototype pollution', url: 'https://github.com/advisories/GHSA-xxxx-xxxx-xxxx' }];
    for (const severity of ['high', 'critical'] as const) {
      const vulnerabilities = { protobufjs: { name: 'protobufjs', severity, range: '7.0.0 - 7.2.4', via, fixAvailable: true } };
      const { code, out } = run(report({ [severity]: 1 }, vulnerabilities), 1);
      assert.equal(code, 1, out);
      assert.match(
        out,
        new RegExp(`${severity} protobufjs 7\\.0\\.0 - 7\\.2\\.4: Prototype pollution https://github\\.com/advisories/GHSA-xxxx`),
      );
    }
  });

  it('says so, and does not fail, when the audit service cannot be reached', () => {
    const unreachable = { message: '405 Method Not Allowed - POST https://registry.example/-/npm/v1/security/advisories/bulk', error: {} };
    const { code, out } = run(unreachable, 1);
    assert.equal(code, 0, out);
    assert.match(out, /NOT CHECKED: the npm audit service could not be reached \(405 Method Not Allowed/);
    const offline = run('', 1);
    assert.equal(offline.code, 0, offline.out);
    assert.match(offline.out, /NOT CHECKED/);
  });
});
