import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { RuleConfig } from '../../src/config/schema.js';
import { compileRules, PolicyError } from '../../src/policy/compile-rules.js';

const ADMINS = '11111111-1111-1111-1111-111111111111';
const READERS = '22222222-2222-2222-2222-222222222222';
const RAW = '33333333-3333-3333-3333-333333333333';
const GROUPS = { [ADMINS]: 'orders-admins', [READERS]: 'orders-readers' };
const ISSUERS = ['entra', 'partner'];

function rule(id: string, fields: Partial<RuleConfig> = {}): RuleConfig {
  return { id, actions: ['/orders.v1.Orders/GetOrder'], public: false, ...fields };
}

/** The problems compileRules reports for `rules`; fails the test when it compiles. */
function problemsOf(rules: RuleConfig[], groups: Record<string, string> = GROUPS): string[] {
  try {
    compileRules(rules, groups, ISSUERS);
  } catch (err) {
    assert.ok(err instanceof PolicyError);
    assert.equal(err.code, 'ERR_POLICY_INVALID');
    return err.problems;
  }
  assert.fail('expected a PolicyError');
}

describe('compileRules', () => {
  it('compiles requirements into Sets and resolves group names to ids', () => {
    const policy = compileRules(
      [rule('r', { issuers: ['entra'], any_roles: ['A', 'B'], all_scopes: ['s'], any_groups: ['orders-admins', RAW], app_only: true })],
      GROUPS,
      ISSUERS,
    );
    const [r] = policy.rules;
    assert.ok(r);
    assert.deepEqual([...(r.issuers ?? [])], ['entra']);
    assert.deepEqual([...(r.anyRoles ?? [])], ['A', 'B']);
    assert.deepEqual([...(r.allScopes ?? [])], ['s']);
    assert.deepEqual([...(r.anyGroups ?? [])], [ADMINS, RAW]);
    assert.equal(r.allRoles, undefined);
    assert.equal(r.appOnly, true);
    assert.deepEqual(r.allowed, { allowed: true, rule: 'r', public: false });
    assert.equal(policy.groupNames.get(ADMINS), 'orders-admins');
  });

  it('compiles an empty rule list into a policy that matches nothing', () => {
    assert.equal(compileRules([], {}, []).index.firstMatch('/a.B/C'), -1);
  });

  it('rejects duplicate rule ids', () => {
    assert.deepEqual(problemsOf([rule('a'), rule('b', { actions: ['x'] }), rule('a', { actions: ['y'] })]), [
      'rules[2] (id a).id: duplicate rule id (first used by rules[0])',
    ]);
  });

  it('rejects unknown group names, naming the rule and key', () => {
    const problems = problemsOf([
      rule('x', { actions: ['x'] }),
      rule('y', { actions: ['y'] }),
      rule('orders-write', { all_groups: ['orders-readers', 'orders-admin'] }),
    ]);
    assert.equal(problems.length, 1);
    assert.match(problems[0] ?? '', /^rules\[2\] \(id orders-write\)\.all_groups\[1\]: unknown group name "orders-admin"/);
  });

  it('rejects a group name that two ids share', () => {
    const problems = problemsOf([rule('r', { any_groups: ['dup'] })], { [ADMINS]: 'dup', [READERS]: 'dup' });
    assert.match(problems[0] ?? '', /any_groups\[0\]: group name "dup" is ambiguous/);
  });

  it('rejects unknown issuer ids', () => {
    const problems = problemsOf([rule('r', { issuers: ['entra', 'google'] })]);
    assert.deepEqual(problems, ['rules[0] (id r).issuers[1]: unknown issuer id "google" (known: entra, partner)']);
  });

  it('rejects bad action patterns', () => {
    const problems = problemsOf([rule('r', { actions: ['/orders.v1.Orders/Get*Order', '**', ''] })]);
    assert.equal(problems.length, 3);
    assert.match(problems[0] ?? '', /^rules\[0\] \(id r\)\.actions\[0\]: .*may only end a segment/);
    assert.match(problems[1] ?? '', /^rules\[0\] \(id r\)\.actions\[1\]: /);
    assert.match(problems[2] ?? '', /^rules\[0\] \(id r\)\.actions\[2\]: .*empty pattern/);
  });

  it('rejects a rule after a catch-all', () => {
    const problems = problemsOf([rule('all', { actions: ['*'] }), rule('late', { actions: ['orders:read'] })]);
    assert.equal(problems.length, 1);
    assert.match(
      problems[0] ?? '',
      /^rules\[1\] \(id late\)\.actions: unreachable: "orders:read" is matched first by rules\[0\] \(id all\) "\*"/,
    );
  });

  it('rejects a rule whose every pattern earlier rules cover, across several rules', () => {
    const problems = problemsOf([
      rule('get', { actions: ['/o.v1.Orders/Get*'] }),
      rule('list', { actions: ['/o.v1.*/List*'] }),
      rule('dead', { actions: ['/o.v1.Orders/GetOrder', '/o.v1.Orders/ListOrders'] }),
    ]);
    assert.equal(problems.length, 1);
    assert.match(problems[0] ?? '', /^rules\[2\] \(id dead\)\.actions: unreachable/);
  });

  it('accepts a rule that earlier rules cover only in part', () => {
    assert.doesNotThrow(() =>
      compileRules(
        [rule('get', { actions: ['/o.v1.Orders/Get*'] }), rule('rest', { actions: ['/o.v1.Orders/GetOrder', '/o.v1.Orders/*'] })],
        {},
        [],
      ),
    );
  });

  it('rejects a public rule that also states requirements', () => {
    const problems = problemsOf([rule('health', { public: true, any_roles: ['A'], issuers: ['entra'] })]);
    assert.deepEqual(problems, ['rules[0] (id health): a public rule needs no token, so it cannot also require issuers, any_roles']);
  });

  it('rejects app_only on a public rule', () => {
    assert.deepEqual(problemsOf([rule('health', { public: true, app_only: false })]), [
      'rules[0] (id health).app_only: not allowed on a public rule (no token is checked)',
    ]);
  });

  it('reports every problem at once', () => {
    const problems = problemsOf([rule('a', { actions: ['*'], issuers: ['nope'] }), rule('a', { any_groups: ['nope'] })]);
    assert.equal(problems.length, 4); // unknown issuer, duplicate id, unknown group, unreachable
    assert.match(String(new PolicyError(problems).message), /^invalid rules:\n {2}rules\[0\]/);
  });
});
