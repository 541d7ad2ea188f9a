// `gatehouse explain` with HTTP actions: rules named "<METHOD> <path>" are walked like any other, and a path that is
// not canonical is refused before any rule, as the server refuses it. The real CLI, a loopback issuer's token.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LOOPBACK_AUDIENCE, startLoopbackIssuer, type LoopbackIssuer } from '../verification/loopback-issuer.js';
import { runCli, tempDir } from './cli-process.js';

describe('gatehouse explain --action "<METHOD> <path>"', () => {
  let issuer: LoopbackIssuer;
  let config: string;
  let remove: () => void;

  before(async () => {
    issuer = await startLoopbackIssuer();
    let dir: string;
    ({ dir, remove } = tempDir());
    config = join(dir, 'gatehouse.yaml');
    writeFileSync(
      config,
      `issuers:
  - { id: idp, type: oidc, issuer: "${issuer.issuer}", audiences: ["${LOOPBACK_AUDIENCE}"] }
rules:
  - { id: health, actions: ["* /health"], public: true }
  - { id: orders-read, actions: ["GET /orders/*"], any_roles: [Orders.Read] }
  - { id: orders-write, actions: ["* /orders/*"], any_roles: [Orders.Admin] }
`,
    );
  });
  after(async () => {
    await issuer?.close();
    remove?.();
  });

  it('walks HTTP rules: GET allowed by orders-read, DELETE denied by orders-write', async () => {
    const reader = issuer.token({ claims: { roles: ['Orders.Read'] } });
    const [get, del] = await Promise.all([
      runCli(['explain', '--config', config, '--token', reader, '--action', 'GET /orders/42']),
      runCli(['explain', '--config', config, '--token', reader, '--action', 'DELETE /orders/42']),
    ]);
    assert.equal(get.code, 0, get.stderr);
    assert.match(get.stdout, /2\. orders-read\s+DECIDES\s+first rule to match, by "GET \/orders\/\*"; allowed/);
    assert.match(get.stdout, /^decision\s+allowed by rule orders-read$/m);
    assert.equal(del.code, 1, del.stderr);
    assert.match(del.stdout, /^decision\s+denied MISSING_ROLE by rule orders-write/m);
  });

  it('a non-canonical path is PATH_NOT_CANONICAL, whatever the rules say', async () => {
    const admin = issuer.token({ claims: { roles: ['Orders.Read', 'Orders.Admin'] } });
    const result = await runCli(['explain', '--config', config, '--token', admin, '--action', 'GET /orders/..%2fadmin']);
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stdout, /^decision\s+denied PATH_NOT_CANONICAL: /m);
  });
});
