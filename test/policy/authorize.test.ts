import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { RuleConfig } from '../../src/config/schema.js';
import type { Principal } from '../../src/contract/principal.js';
import { authorize, explain } from '../../src/policy/authorize.js';
import { compileRules } from '../../src/policy/compile-rules.js';
import type { Decision } from '../../src/policy/decision.js';

const ADMINS = '11111111-1111-1111-1111-111111111111';
const READERS = '22222222-2222-2222-2222-222222222222';
const OTHER = '44444444-4444-4444-4444-444444444444';
const GROUPS = { [ADMINS]: 'orders-admins', [READERS]: 'orders-readers' };

function principal(fields: Partial<Principal> = {}): Principal {
  return {
    issuer: 'https://login.microsoftonline.com/tid/v2.0',
    issuerId: 'entra',
    subject: 'sub',
    tenantId: 'tid',
    objectId: 'oid',
    clientId: 'client',
    roles: [],
    scopes: ['user_impersonation'],
    groups: [],
    groupsOverage: false,
    appOnly: false,
    expiresAt: 2_000_000_000,
    tokenVersion: '2.0',
    claims: {},
    ...fields,
  };
}

const ACTION = '/orders.v1.Orders/GetOrder';

/** Decides ACTION for `who` under one rule with `fields`. */
function decide(fields: Partial<RuleConfig>, who: Principal | undefined): Decision {
  const policy = compileRules([{ id: 'r', actions: [ACTION], public: false, ...fields }], GROUPS, ['entra', 'partner']);
  return authorize(policy, who, ACTION);
}

function reasonOf(decision: Decision): string {
  return decision.allowed ? 'ALLOWED' : decision.reason;
}

describe('authorize', () => {
  describe('rule matching', () => {
    const policy = compileRules(
      [
        { id: 'health', actions: ['/grpc.health.v1.Health/*'], public: true },
        { id: 'admin', actions: ['/orders.v1.Orders/Delete*'], public: false, any_roles: ['Orders.Admin'] },
        { id: 'read', actions: ['/orders.v1.Orders/*'], public: false, any_roles: ['Orders.Read', 'Orders.Admin'] },
      ],
      {},
      ['entra'],
    );

    it('denies with NO_MATCHING_RULE and an empty rule when nothing matches', () => {
      const decision = authorize(policy, principal(), '/billing.v1.Billing/Pay');
      assert.equal(reasonOf(decision), 'NO_MATCHING_RULE');
      assert.equal(decision.rule, '');
      assert.ok(!decision.allowed && decision.message === 'no rule allows /billing.v1.Billing/Pay');
    });

    it('allows a public rule without a principal', () => {
      assert.deepEqual(authorize(policy, undefined, '/grpc.health.v1.Health/Check'), { allowed: true, rule: 'health', public: true });
    });

    it('lets the first matching rule decide, even when a later one would allow', () => {
      const reader = principal({ roles: ['Orders.Read'] });
      const decision = authorize(policy, reader, '/orders.v1.Orders/DeleteOrder');
      assert.equal(reasonOf(decision), 'MISSING_ROLE');
      assert.equal(decision.rule, 'admin');
      assert.deepEqual(authorize(policy, reader, '/orders.v1.Orders/GetOrder'), { allowed: true, rule: 'read', public: false });
    });

    it('denies a non-public rule when there is no principal', () => {
      const decision = authorize(policy, undefined, '/orders.v1.Orders/GetOrder');
      assert.equal(decision.allowed, false);
      assert.equal(decision.rule, 'read');
      assert.equal(decide({}, undefined).allowed, false); // a rule with no requirements still needs a caller
    });

    it('returns the same allow value for every allowed call (no allocation)', () => {
      const who = principal({ roles: ['Orders.Read'] });
      assert.equal(authorize(policy, who, ACTION), authorize(policy, who, ACTION));
    });
  });

  it('allows any authenticated caller on a rule without requirements', () => {
    assert.equal(reasonOf(decide({}, principal())), 'ALLOWED');
  });

  it('restricts the issuer', () => {
    assert.equal(reasonOf(decide({ issuers: ['partner'] }, principal())), 'ISSUER_NOT_ALLOWED_FOR_ACTION');
    assert.equal(reasonOf(decide({ issuers: ['partner'] }, principal({ issuerId: 'partner' }))), 'ALLOWED');
  });

  it('checks the issuer before anything else', () => {
    assert.equal(
      reasonOf(decide({ issuers: ['partner'], app_only: true, any_roles: ['X'] }, principal())),
      'ISSUER_NOT_ALLOWED_FOR_ACTION',
    );
  });

  it('requires app-only or delegated tokens', () => {
    const app = principal({ appOnly: true, scopes: [], roles: ['Orders.Read'] });
    assert.equal(reasonOf(decide({ app_only: true }, principal())), 'APP_ONLY_REQUIRED');
    assert.equal(reasonOf(decide({ app_only: true }, app)), 'ALLOWED');
    assert.equal(reasonOf(decide({ app_only: false }, app)), 'DELEGATED_REQUIRED');
    assert.equal(reasonOf(decide({ app_only: false }, principal())), 'ALLOWED');
    assert.equal(reasonOf(decide({}, app)), 'ALLOWED');
  });

  it('refuses a token with neither scp nor roles for rules that need either', () => {
    const bare = principal({ scopes: [], roles: [] });
    const scopes = decide({ any_scopes: ['orders.read'] }, bare);
    assert.equal(reasonOf(scopes), 'MISSING_SCOPE');
    assert.ok(!scopes.allowed && /neither scp nor roles/.test(scopes.message));
    assert.equal(reasonOf(decide({ all_roles: ['A'] }, bare)), 'MISSING_ROLE');
    assert.equal(reasonOf(decide({ any_roles: ['A'], all_scopes: ['s'] }, bare)), 'MISSING_SCOPE');
    assert.equal(reasonOf(decide({}, bare)), 'ALLOWED');
  });

  it('applies any_roles and all_roles', () => {
    const who = principal({ roles: ['Orders.Read', 'Orders.Write'] });
    assert.equal(reasonOf(decide({ any_roles: ['Orders.Admin', 'Orders.Read'] }, who)), 'ALLOWED');
    assert.equal(reasonOf(decide({ any_roles: ['Orders.Admin'] }, who)), 'MISSING_ROLE');
    assert.equal(reasonOf(decide({ all_roles: ['Orders.Read', 'Orders.Write'] }, who)), 'ALLOWED');
    assert.equal(reasonOf(decide({ all_roles: ['Orders.Read', 'Orders.Admin'] }, who)), 'MISSING_ROLE');
    assert.equal(reasonOf(decide({ any_roles: ['Orders.Read'], all_roles: ['Orders.Admin'] }, who)), 'MISSING_ROLE');
  });

  it('applies any_scopes and all_scopes', () => {
    const who = principal({ scopes: ['orders.read'] });
    assert.equal(reasonOf(decide({ any_scopes: ['orders.read', 'orders.write'] }, who)), 'ALLOWED');
    assert.equal(reasonOf(decide({ all_scopes: ['orders.read', 'orders.write'] }, who)), 'MISSING_SCOPE');
    assert.equal(reasonOf(decide({ any_scopes: ['orders.write'] }, who)), 'MISSING_SCOPE');
  });

  it('checks roles before scopes', () => {
    const who = principal({ scopes: ['s'], roles: ['r'] });
    assert.equal(reasonOf(decide({ any_roles: ['x'], any_scopes: ['y'] }, who)), 'MISSING_ROLE');
  });

  it('matches exactly and case-sensitively', () => {
    assert.equal(reasonOf(decide({ any_roles: ['Admin'] }, principal({ roles: ['Admin.Read'] }))), 'MISSING_ROLE');
    assert.equal(reasonOf(decide({ any_roles: ['Admin'] }, principal({ roles: ['admin'] }))), 'MISSING_ROLE');
    assert.equal(reasonOf(decide({ any_roles: ['Admin.Read'] }, principal({ roles: ['Admin'] }))), 'MISSING_ROLE');
    assert.equal(reasonOf(decide({ any_scopes: ['Orders.Read'] }, principal({ scopes: ['orders.read'] }))), 'MISSING_SCOPE');
    assert.equal(reasonOf(decide({ any_roles: ['Admin'] }, principal({ roles: ['Admin'] }))), 'ALLOWED');
  });

  it('says in the message what was missing and what the token has', () => {
    const roles = decide({ any_roles: ['Orders.Admin'] }, principal({ roles: ['Orders.Read'] }));
    assert.ok(!roles.allowed);
    assert.equal(roles.message, 'requires one of roles [Orders.Admin]; token has [Orders.Read]');
    const scopes = decide({ all_scopes: ['orders.read', 'orders.write'] }, principal({ scopes: ['orders.read'] }));
    assert.ok(!scopes.allowed);
    assert.equal(scopes.message, 'requires all scopes [orders.read orders.write]; token has [orders.read]');
  });

  describe('groups', () => {
    it('maps group names to object ids', () => {
      assert.equal(reasonOf(decide({ any_groups: ['orders-admins'] }, principal({ groups: [OTHER, ADMINS] }))), 'ALLOWED');
      assert.equal(reasonOf(decide({ any_groups: ['orders-admins'] }, principal({ groups: [READERS] }))), 'MISSING_GROUP');
      // The token lists ids; a name in the token is not the group.
      assert.equal(reasonOf(decide({ any_groups: ['orders-admins'] }, principal({ groups: ['orders-admins'] }))), 'MISSING_GROUP');
    });

    it('accepts a raw group id in a rule', () => {
      assert.equal(reasonOf(decide({ any_groups: [OTHER] }, principal({ groups: [OTHER] }))), 'ALLOWED');
    });

    it('applies all_groups', () => {
      const both = principal({ groups: [ADMINS, READERS] });
      assert.equal(reasonOf(decide({ all_groups: ['orders-admins', 'orders-readers'] }, both)), 'ALLOWED');
      const one = decide({ all_groups: ['orders-admins', 'orders-readers'] }, principal({ groups: [READERS] }));
      assert.equal(reasonOf(one), 'MISSING_GROUP');
      assert.ok(!one.allowed && one.message === 'requires all groups [orders-admins orders-readers]; token has [orders-readers]');
    });

    it('reports GROUPS_OVERAGE when the group list is incomplete and the requirement is not met', () => {
      const overage = decide({ any_groups: ['orders-admins'] }, principal({ groupsOverage: true }));
      assert.equal(reasonOf(overage), 'GROUPS_OVERAGE');
      assert.ok(!overage.allowed && /overage/.test(overage.message) && /app roles/.test(overage.message));
      assert.equal(reasonOf(decide({ any_groups: ['orders-admins'] }, principal({ groupsOverage: true, groups: [ADMINS] }))), 'ALLOWED');
    });
  });
});

describe('explain', () => {
  const policy = compileRules(
    [
      { id: 'billing', actions: ['/billing.v1.Billing/*'], public: false },
      { id: 'get', actions: ['/orders.v1.Orders/Get*'], public: false, any_roles: ['Orders.Read'] },
      { id: 'rest', actions: ['/orders.v1.Orders/*'], public: false },
    ],
    {},
    ['entra'],
  );

  it('lists every rule, the one that decided, and why', () => {
    const steps = explain(policy, principal(), ACTION);
    assert.deepEqual(
      steps.map((s) => [s.rule, s.matched, s.decided ? reasonOf(s.decided) : undefined]),
      [
        ['billing', false, undefined],
        ['get', true, 'MISSING_ROLE'],
        ['rest', true, undefined],
      ],
    );
    assert.match(steps[2]?.why ?? '', /not reached/);
    assert.deepEqual(steps[1]?.decided, authorize(policy, principal(), ACTION));
  });

  it('has no deciding step when nothing matches', () => {
    assert.ok(explain(policy, principal(), 'orders:read').every((s) => !s.matched && !s.decided));
  });
});
