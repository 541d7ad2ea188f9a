/**
 * The V8 settings a serving process applies (src/cli/v8-tuning.ts), observed in a child node: with pretenuring off,
 * V8 reports no allocation-site feedback at all (`--trace-pretenuring-statistics`), where the same program without
 * the call reports some. The program keeps what it allocates, so a scavenge finds each site's objects alive.
 */
import { spawnSync } from 'node:child_process';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { REPO_ROOT, cleanEnv } from './cli-process.js';
import { SERVING_V8_FLAGS } from '../../src/cli/v8-tuning.js';

const ALLOCATE = `
const kept = [];
const make = (i) => ({ id: i, name: 'x' + i, list: [i] });
for (let round = 0; round < 20; round++) {
  for (let i = 0; i < 5000; i++) kept.push(make(i));
  globalThis.gc({ type: 'minor' });
}`;

/** How many allocation-site decisions V8 traced in a child that runs `prelude` and then allocates. */
function sitesTraced(prelude: string, nodeFlags: readonly string[] = []): number {
  const child = spawnSync(
    process.execPath,
    [
      '--expose-gc',
      '--trace-pretenuring',
      '--trace-pretenuring-statistics',
      ...nodeFlags,
      '--import',
      'tsx',
      '--input-type=module',
      '-e',
      `${prelude}\n${ALLOCATE}`,
    ],
    { cwd: REPO_ROOT, env: cleanEnv(), encoding: 'utf8', timeout: 30_000 },
  );
  assert.equal(child.status, 0, child.stderr);
  return child.stdout.split('\n').filter((line) => line.includes('AllocationSite(')).length;
}

const TUNE = `import { tuneV8ForServing } from './src/cli/v8-tuning.ts'; tuneV8ForServing();`;

test('v8 tuning: a serving process has allocation-site pretenuring off', () => {
  assert.ok(sitesTraced('') > 0, 'the control: V8 traces pretenuring feedback for this program by default');
  assert.equal(sitesTraced(TUNE), 0);
});

test('v8 tuning: an operator who starts node with --allocation-site-pretenuring keeps it', () => {
  assert.ok(sitesTraced(TUNE, ['--allocation-site-pretenuring']) > 0);
  assert.ok(sitesTraced(TUNE, ['--allocation_site_pretenuring']) > 0, 'V8 takes the flag with underscores too');
});

test('v8 tuning: every flag is a --no- flag, so its opposite can be recognised', () => {
  for (const flag of SERVING_V8_FLAGS) assert.match(flag, /^--no-[a-z-]+$/);
});
