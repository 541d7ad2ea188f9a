import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli, tempDir } from './cli-process.js';

const ISSUER = `
  - id: corp
    type: entra
    tenant: 72f988bf-86f1-41af-91ab-2d7cd011db47
    audiences: [api://orders]`;

/** Each invalid config, and what stderr must name. */
const INVALID: { name: string; yaml: string; names: RegExp[] }[] = [
  {
    name: 'a second issuer without audiences',
    yaml: `issuers:${ISSUER}
  - id: dev
    type: oidc
    issuer: http://127.0.0.1:9400
`,
    names: [/issuers\[1\]\.audiences: required/],
  },
  {
    name: 'a duration that is not one',
    yaml: `issuers:${ISSUER}
keys:
  refresh_interval: soon
`,
    names: [/keys\.refresh_interval: not a duration/],
  },
  {
    name: 'key refetch durations that would spin (0s)',
    yaml: `issuers:${ISSUER}
keys:
  refresh_interval: 0s
  max_stale: 0s
  unknown_kid_cooldown: 0s
`,
    names: [/keys\.refresh_interval: must be at least 1s/, /keys\.unknown_kid_cooldown: must be at least 1s/],
  },
  {
    name: 'a plain http issuer that is not loopback',
    yaml: `issuers:
  - id: idp
    type: oidc
    issuer: http://idp.example.com
    audiences: [api://orders]
`,
    names: [/issuers\[0\]\.issuer: must be https/],
  },
  {
    name: 'a rule naming an unknown group',
    yaml: `issuers:${ISSUER}
groups:
  5b1c9a3e-8f2d-4c6b-9e7a-0d1f2e3c4b5a: billing-operators
rules:
  - id: billing
    actions: [/billing.v1.Billing/*]
    any_groups: [billing-operatorz]
`,
    names: [/rules\[0\] \(id billing\)\.any_groups\[0\]: unknown group name "billing-operatorz"/],
  },
  {
    name: 'several problems at once, an unknown key among them',
    yaml: `issuers:${ISSUER}
server:
  max_message_bytes: 10
tokens:
  clock_skew: 60s
  max_lifetime: 1h
`,
    names: [/server\.max_message_bytes: /, /tokens\.max_lifetime: unknown key/],
  },
  {
    name: 'when conditions that do not compile, reported together with a bad named segment',
    yaml: `issuers:${ISSUER}
rules:
  - id: syntax
    actions: [/a.v1.A/*]
    when: 'params.user =='
  - id: unknown-variable
    actions: [/b.v1.B/*]
    when: 'user == "x"'
  - id: not-bool
    actions: ['GET /users/{user}']
    when: params.user
  - id: segments
    actions: ['GET /x/{a}/{a}']
`,
    names: [
      /rules\[0\] \(id syntax\)\.when: at 1:15: /,
      /rules\[1\] \(id unknown-variable\)\.when: at 1:1: Unknown variable: user/,
      /rules\[2\] \(id not-bool\)\.when: at 1:1: the condition's result is string, not bool/,
      /rules\[3\] \(id segments\)\.actions\[0\]: .*"a" is used twice/,
    ],
  },
];

describe('gatehouse serve / check-config with an invalid config', { concurrency: true }, () => {
  let dir: string;
  let remove: () => void;
  before(() => ({ dir, remove } = tempDir()));
  after(() => remove());

  for (const [i, { name, yaml, names }] of INVALID.entries()) {
    it(`serve refuses ${name}: exit 2 before listening, stderr names the key`, async () => {
      const file = join(dir, `invalid-${i}.yaml`);
      writeFileSync(file, yaml);
      // Port 0 listeners: if the config were wrongly accepted, serve would start, not collide.
      const result = await runCli(['serve', '--config', file], {
        env: { GATEHOUSE_GRPC_ADDRESS: '127.0.0.1:0', GATEHOUSE_HTTP_ADDRESS: '127.0.0.1:0' },
      });
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, new RegExp(`invalid configuration in .*invalid-${i}\\.yaml`));
      for (const pattern of names) assert.match(result.stderr, pattern);
      assert.doesNotMatch(result.stdout, /gatehouse listening/);
    });
  }

  it('check-config reports the same problems and exits 2', async () => {
    const file = join(dir, 'check.yaml');
    writeFileSync(file, INVALID[4]!.yaml);
    const result = await runCli(['check-config', '--config', file]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /any_groups\[0\]: unknown group name/);
  });

  it('check-config reports every bad when condition with its rule id and position, and exits 2', async () => {
    const file = join(dir, 'check-when.yaml');
    const when = INVALID.find((c) => c.name.startsWith('when conditions'))!;
    writeFileSync(file, when.yaml);
    const result = await runCli(['check-config', '--config', file]);
    assert.equal(result.code, 2);
    for (const pattern of when.names) assert.match(result.stderr, pattern);
  });

  it('check-config refuses key refetch durations below 1s, naming each key, and exits 2', async () => {
    const file = join(dir, 'check-spin.yaml');
    writeFileSync(file, INVALID[2]!.yaml);
    const result = await runCli(['check-config', '--config', file]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /keys\.refresh_interval: must be at least 1s/);
    assert.match(result.stderr, /keys\.unknown_kid_cooldown: must be at least 1s/);
  });

  it('serve without a config file says how to give one, exit 2', async () => {
    const result = await runCli(['serve']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /--config FILE or set GATEHOUSE_CONFIG/);
  });

  it('serve with a missing file names it, exit 2', async () => {
    const result = await runCli(['serve'], { env: { GATEHOUSE_CONFIG: join(dir, 'absent.yaml') } });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /absent\.yaml:\n {2}- cannot read the file: ENOENT/);
  });
});

describe('gatehouse check-config on the shipped example', () => {
  it('passes: exit 0 and a summary', async () => {
    const result = await runCli(['check-config', '--config', 'examples/config/gatehouse.yaml']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^OK: examples\/config\/gatehouse\.yaml: 3 issuers \(corp, partners, platform\), \d+ rules/);
  });
});
