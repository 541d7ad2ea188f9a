// Policy reload under load: 2,000 Authorize calls over about a second while the rules swap 20 times, with no
// failed call and every decision consistent with one of the two rule sets; an invalid reload changes nothing.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { AuthorizeResponse } from '../../src/contract/messages.js';
import { startEntraServer, type EntraServer } from '../helpers/entra-server.js';
import { sleep, startTestGatehouse, testConfig, type TestGatehouse } from '../helpers/gatehouse.js';

const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const AUD = 'api://orders';
const GET = '/orders.v1.Orders/GetOrder';
const RELOADS = 20;
const CALLS_PER_RELOAD = 100;
const TICK_MS = 50;

/** Set A allows a token with Orders.Read; set B requires Orders.Admin, so it denies the same token. */
const RULE_SETS = {
  a: [{ id: 'set-a', actions: ['/orders.v1.Orders/*'], any_roles: ['Orders.Read'] }],
  b: [{ id: 'set-b', actions: ['/orders.v1.Orders/*'], any_roles: ['Orders.Admin'] }],
};

function ruleSetOf(response: AuthorizeResponse): 'a' | 'b' | 'inconsistent' {
  if (response.allowed && response.rule === 'set-a' && response.denial === null) return 'a';
  if (!response.allowed && response.rule === 'set-b' && response.denial?.reason === 'MISSING_ROLE') return 'b';
  return 'inconsistent';
}

describe('policy reload over gRPC', () => {
  let entra: EntraServer;
  let gh: TestGatehouse;
  let tokens: string[];
  const raw = (rules: unknown, extra: Record<string, unknown> = {}) => ({
    issuers: [{ id: 'contoso', type: 'entra', tenant: TENANT, authority: entra.base, audiences: [AUD] }],
    groups: { '0b1c6e2a-0000-4000-8000-00000000000a': 'orders-admins' },
    rules,
    ...extra,
  });
  // Validated once: a validated config's durations are milliseconds, which validation would read as seconds.
  const config = (rules: unknown, extra: Record<string, unknown> = {}) => testConfig(raw(rules, extra));

  before(async () => {
    entra = await startEntraServer();
    gh = await startTestGatehouse(raw(RULE_SETS.a), { level: 'info' });
    // Several tokens, so calls after each reload verify again as well as hit the cache.
    tokens = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        entra.mint({
          version: 2,
          tid: TENANT,
          aud: AUD,
          claims: { roles: ['Orders.Read'], oid: `0000000${i}-0000-4000-8000-000000000000` },
        }),
      ),
    );
  });
  after(async () => {
    await gh?.close();
    await entra?.close();
  });

  it('2,000 calls while reloading 20 times: none fails, each decided wholly by one rule set', async () => {
    const calls: Promise<AuthorizeResponse>[] = [];
    const reloads: ('a' | 'b')[] = [];
    for (let tick = 0; tick < RELOADS; tick++) {
      for (let i = 0; i < CALLS_PER_RELOAD; i++) {
        const token = tokens[(tick * CALLS_PER_RELOAD + i) % tokens.length]!;
        calls.push(gh.client.authorize(token, i % 2 ? GET : '/orders.v1.Orders/ListOrders').then((reply) => reply.response));
      }
      const next = tick % 2 === 0 ? 'b' : 'a';
      await gh.gatehouse.reload(config(RULE_SETS[next]));
      reloads.push(next);
      await sleep(TICK_MS);
    }
    const settled = await Promise.allSettled(calls);

    const failed = settled.filter((s) => s.status === 'rejected');
    assert.equal(failed.length, 0, `failed calls: ${failed.slice(0, 3).map((f) => String((f as PromiseRejectedResult).reason))}`);
    const sets = settled.map((s) => ruleSetOf((s as PromiseFulfilledResult<AuthorizeResponse>).value));
    assert.equal(settled.length, RELOADS * CALLS_PER_RELOAD);
    assert.equal(sets.filter((s) => s === 'inconsistent').length, 0);
    assert.ok(sets.includes('a') && sets.includes('b'), 'both rule sets answered during the run');
    assert.equal(reloads.length, RELOADS);

    // The last reload (to set "a") is what answers now, and every call was audited.
    assert.equal(ruleSetOf((await gh.client.authorize(tokens[0]!, GET)).response), 'a');
    assert.equal(gh.logs.audit().length, RELOADS * CALLS_PER_RELOAD + 1);
  });

  it('a reload with invalid rules rejects, naming the rule, and the running rules keep answering', async () => {
    await gh.gatehouse.reload(config(RULE_SETS.b));
    assert.equal(ruleSetOf((await gh.client.authorize(tokens[0]!, GET)).response), 'b');
    const cachedBefore = gh.gatehouse.authorizer().cachedDecisions;

    const invalid = [
      [{ id: 'bad-group', actions: ['/orders.v1.Orders/*'], any_groups: ['no-such-group'] }],
      [
        { id: 'dup', actions: ['/orders.v1.Orders/Get*'], any_roles: ['Orders.Read'] },
        { id: 'dup', actions: ['/orders.v1.Orders/List*'], any_roles: ['Orders.Read'] },
      ],
      [
        { id: 'catch-all', actions: ['*'], any_roles: ['Orders.Read'] },
        { id: 'unreachable', actions: ['/orders.v1.Orders/*'], any_roles: ['Orders.Read'] },
      ],
    ];
    for (const rules of invalid) {
      const named = rules.at(-1)!.id;
      await assert.rejects(gh.gatehouse.reload(config(rules)), (err: { code?: string; problems?: string[] }) => {
        assert.equal(err.code, 'ERR_POLICY_INVALID');
        assert.ok(
          err.problems?.some((p) => p.includes(`(id ${named})`)),
          JSON.stringify(err.problems),
        );
        return true;
      });
      const { response } = await gh.client.authorize(tokens[0]!, GET);
      assert.equal(ruleSetOf(response), 'b', 'the running rules still answer');
    }
    assert.equal(gh.gatehouse.authorizer().cachedDecisions, cachedBefore, 'a failed reload leaves the cache alone');

    // A failed reload that would also have changed the issuers' settings leaves the engine in place.
    const engine = gh.gatehouse.authorizer();
    await assert.rejects(gh.gatehouse.reload(config(invalid[0], { tokens: { clock_skew: '5s' } })));
    assert.equal(gh.gatehouse.authorizer(), engine);
    assert.equal(ruleSetOf((await gh.client.authorize(tokens[1]!, GET)).response), 'b');
  });
});
