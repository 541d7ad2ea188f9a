import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { RuleConfig } from '../../src/config/schema.js';
import type { Principal } from '../../src/contract/principal.js';
import { authorize, explain } from '../../src/policy/authorize.js';
import { compileRules, PolicyError } from '../../src/policy/compile-rules.js';
import type { Facts } from '../../src/policy/condition-variables.js';
import type { Decision } from '../../src/policy/decision.js';

const NOW = Date.parse('2027-01-01T00:00:00Z');

function principal(fields: Partial<Principal> = {}): Principal {
  return {
    issuer: 'https://issuer.example',
    issuerId: 'entra',
    subject: 'u1',
    tenantId: 'tid',
    objectId: 'oid',
    clientId: 'client',
    roles: ['Orders.Read'],
    scopes: [],
    groups: [],
    groupsOverage: false,
    appOnly: false,
    expiresAt: 2_000_000_000,
    tokenVersion: '2.0',
    claims: { department: 'sales', level: 3, admin: 'yes' },
    ...fields,
  };
}

function rules(when: string, fields: Partial<RuleConfig> = {}): RuleConfig[] {
  return [{ id: 'owner', actions: ['GET /users/{user}/orders/*', '/orders.v1.Orders/*'], public: false, when, ...fields }];
}

function decide(when: string, action: string, facts?: Facts, who: Principal = principal(), fields: Partial<RuleConfig> = {}): Decision {
  const policy = compileRules(rules(when, fields), {}, ['entra']);
  return authorize(policy, who, action, { facts, nowMs: NOW });
}

function problemsOf(when: string): string[] {
  try {
    compileRules(rules(when), {}, ['entra']);
  } catch (err) {
    if (err instanceof PolicyError) return err.problems;
    throw err;
  }
  return [];
}

const reason = (d: Decision) => (d.allowed ? 'ALLOWED' : d.reason);

describe('when conditions', () => {
  describe('evaluation', () => {
    it('allows when an ownership condition holds, and denies CONDITION_NOT_MET naming the rule when it does not', () => {
      assert.equal(reason(decide('params.user == principal.subject', 'GET /users/u1/orders/7')), 'ALLOWED');
      const denied = decide('params.user == principal.subject', 'GET /users/u2/orders/7');
      assert.equal(reason(denied), 'CONDITION_NOT_MET');
      assert.equal(denied.rule, 'owner');
      assert.match(denied.allowed ? '' : denied.message, /rule owner is not met/);
    });

    it('percent-decodes a bound HTTP segment', () => {
      const who = principal({ subject: 'a@b.example' });
      assert.equal(reason(decide('params.user == principal.subject', 'GET /users/a%40b.example/orders/7', undefined, who)), 'ALLOWED');
    });

    it('reads attributes, and a missing attribute denies as "could not be evaluated"', () => {
      const when = 'attributes.tenant == principal.tenant_id';
      assert.equal(reason(decide(when, '/orders.v1.Orders/Get', { attributes: { tenant: 'tid' } })), 'ALLOWED');
      assert.equal(reason(decide(when, '/orders.v1.Orders/Get', { attributes: { tenant: 'other' } })), 'CONDITION_NOT_MET');
      const missing = decide(when, '/orders.v1.Orders/Get', { attributes: {} });
      assert.equal(reason(missing), 'CONDITION_NOT_MET');
      assert.match(missing.allowed ? '' : missing.message, /could not be evaluated: No such key: tenant/);
    });

    it('a key on the prototype of a plain object is still a missing key', () => {
      assert.equal(reason(decide('attributes.constructor != ""', '/orders.v1.Orders/Get', { attributes: {} })), 'CONDITION_NOT_MET');
    });

    it('a params key the matching pattern does not bind denies', () => {
      assert.equal(reason(decide('params.user == principal.subject', '/orders.v1.Orders/Get')), 'CONDITION_NOT_MET');
    });

    it('a dyn result that is not a bool at run time denies', () => {
      const d = decide('principal.claims.admin', '/orders.v1.Orders/Get');
      assert.equal(reason(d), 'CONDITION_NOT_MET');
      assert.match(d.allowed ? '' : d.message, /not a bool/);
    });

    it('a wrongly typed claim, a missing claim and a division by zero deny', () => {
      assert.equal(reason(decide('principal.claims.department > 2', '/orders.v1.Orders/Get')), 'CONDITION_NOT_MET');
      assert.equal(reason(decide('principal.claims.missing == "x"', '/orders.v1.Orders/Get')), 'CONDITION_NOT_MET');
      assert.equal(reason(decide('1 / (principal.roles.size() - 1) == 1', '/orders.v1.Orders/Get')), 'CONDITION_NOT_MET');
    });

    it('a || short circuit that would allow past an error is CEL semantics: true || error is true, error || false denies', () => {
      assert.equal(reason(decide('attributes.nope == "x" || false', '/orders.v1.Orders/Get', { attributes: {} })), 'CONDITION_NOT_MET');
    });

    it('reads the request facts and now', () => {
      const request = () => ({ method: 'GET', path: '/users/u1/orders/7', host: 'api.example', headers: new Map([['x-tenant', 'tid']]) });
      assert.equal(reason(decide('request.headers["x-tenant"] == principal.tenant_id', '/orders.v1.Orders/Get', { request })), 'ALLOWED');
      assert.equal(reason(decide('request.host == "api.example"', '/orders.v1.Orders/Get', { request })), 'ALLOWED');
      // The RPCs have no request: an empty one.
      assert.equal(reason(decide('request.headers["x-tenant"] == "tid"', '/orders.v1.Orders/Get')), 'CONDITION_NOT_MET');
      assert.equal(reason(decide('now > timestamp("2026-12-31T00:00:00Z")', '/orders.v1.Orders/Get')), 'ALLOWED');
      assert.equal(reason(decide('now < timestamp("2026-12-31T00:00:00Z")', '/orders.v1.Orders/Get')), 'CONDITION_NOT_MET');
    });

    it('a door whose facts throw denies rather than throwing', () => {
      const request = () => {
        throw new Error('boom');
      };
      assert.equal(reason(decide('request.method == "GET"', '/orders.v1.Orders/Get', { request })), 'CONDITION_NOT_MET');
    });

    it('without a decision context a condition denies', () => {
      const policy = compileRules(rules('true'), {}, ['entra']);
      assert.equal(reason(authorize(policy, principal(), '/orders.v1.Orders/Get')), 'CONDITION_NOT_MET');
    });

    it('is evaluated only after the other requirements hold', () => {
      const d = decide('true', '/orders.v1.Orders/Get', undefined, principal(), { any_roles: ['Orders.Write'] });
      assert.equal(reason(d), 'MISSING_ROLE');
    });
  });

  describe('compile-time checks', () => {
    it('reports a syntax error with the rule id and the position', () => {
      const [problem] = problemsOf('params.user ==');
      assert.match(problem ?? '', /^rules\[0\] \(id owner\)\.when: at 1:15: /);
    });

    it('reports an unknown variable, an unknown field and a non-bool result', () => {
      assert.match(problemsOf('user == "x"')[0] ?? '', /when: at 1:1: Unknown variable: user/);
      // cel.bind multiplies what it binds: a few nested binds build gigabytes from a short expression.
      const bomb = 'cel.bind(a, "xxxx", cel.bind(b, a + a + a + a, b.size() > 0))';
      assert.match(problemsOf(bomb)[0] ?? '', /"cel\.bind" is not available/);
      assert.match(problemsOf('principal.nope == "x"')[0] ?? '', /No such key: nope/);
      assert.match(problemsOf('params.user')[0] ?? '', /result is string, not bool/);
      assert.match(problemsOf('attributes.a + 1 == 2')[0] ?? '', /no such overload/);
    });

    it('refuses what the cost bound forbids: matches, nested comprehensions, too many nodes', () => {
      assert.match(problemsOf('request.path.matches("(a+)+$")')[0] ?? '', /"matches" is not available/);
      assert.match(problemsOf('principal.roles.all(a, principal.groups.exists(g, g == a))')[0] ?? '', /inside another comprehension/);
      assert.equal(problemsOf('principal.roles.filter(r, r != "").all(a, a != "")').length, 0);
      assert.match(problemsOf(Array.from({ length: 200 }, () => 'true').join(' && '))[0] ?? '', /maxAstNodes/);
    });

    it('reports condition problems together with the other problems', () => {
      try {
        compileRules(
          [
            { id: 'a', actions: ['/x.Y/*'], public: false, when: 'nope' },
            { id: 'b', actions: ['GET /a/{x}/{x}'], public: false },
            { id: 'c', actions: ['/z.Y/*'], public: true, when: 'true' },
          ],
          {},
          ['entra'],
        );
        assert.fail('expected a PolicyError');
      } catch (err) {
        assert.ok(err instanceof PolicyError);
        assert.equal(err.problems.length, 3, err.problems.join('\n'));
        assert.match(err.problems[0]!, /rules\[0\] \(id a\)\.when: at 1:1: Unknown variable: nope/);
        assert.match(err.problems[1]!, /rules\[1\] \(id b\)\.actions\[0\]: .*"x" is used twice/);
        assert.match(err.problems[2]!, /rules\[2\] \(id c\)\.when: not allowed on a public rule/);
      }
    });

    it('records which variables an expression reads', () => {
      const policy = compileRules(rules('params.user == principal.subject && attributes.a == "x"'), {}, ['entra']);
      assert.deepEqual([...(policy.rules[0]?.condition?.reads ?? [])].sort(), ['attributes', 'params', 'principal']);
      assert.equal(policy.hasConditions, true);
    });
  });

  describe('explain', () => {
    it('shows the value of the condition, or why it could not be evaluated', () => {
      const policy = compileRules(rules('attributes.tenant == principal.tenant_id'), {}, ['entra']);
      const shown = (facts: Facts) => explain(policy, principal(), '/orders.v1.Orders/Get', { facts, nowMs: NOW })[0]?.condition;
      assert.equal(shown({ attributes: { tenant: 'tid' } }), 'when attributes.tenant == principal.tenant_id: true');
      assert.equal(shown({ attributes: { tenant: 'x' } }), 'when attributes.tenant == principal.tenant_id: false');
      assert.match(shown({}) ?? '', /could not be evaluated: No such key: tenant/);
    });
  });
});
