// /readyz with one identity provider down: `server.readiness: all` (the default) takes the replica out of
// service, `any` keeps it serving the issuers that work. /healthz is alive either way.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startOidcProvider, type TestOidcProvider } from '../helpers/oidc-provider.js';
import { startTestGatehouse } from '../helpers/gatehouse.js';

describe('readiness with one issuer down', () => {
  let op: TestOidcProvider;
  before(async () => {
    op = await startOidcProvider();
  });
  after(() => op.close());

  for (const [rule, expected] of [
    ['all', 503],
    ['any', 200],
  ] as const) {
    it(`server.readiness: ${rule} → /readyz ${expected}`, async () => {
      const gh = await startTestGatehouse(
        {
          server: { readiness: rule },
          issuers: [
            { id: 'up', type: 'oidc', issuer: op.issuer, audiences: ['api'] },
            { id: 'down', type: 'oidc', issuer: 'http://127.0.0.1:9/', audiences: ['api'] },
          ],
        },
        { level: 'silent' },
      );
      try {
        const base = `http://127.0.0.1:${gh.gatehouse.httpPort}`;
        const ready = await fetch(`${base}/readyz`);
        const body = (await ready.json()) as { issuers: { id: string; usable: boolean }[] };
        assert.equal(ready.status, expected);
        assert.deepEqual(
          body.issuers.map((i) => [i.id, i.usable]),
          [
            ['up', true],
            ['down', false],
          ],
        );
        assert.equal((await fetch(`${base}/healthz`)).status, 200);
      } finally {
        await gh.close();
      }
    });
  }
});
