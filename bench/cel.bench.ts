/**
 * The cost of a `when` condition per decision: policy authorize() for a typical ownership rule
 * (`GET /users/{user}/orders/*`, `when: params.user == principal.subject`) against the same rule without `when`,
 * in one run, both allowed. Also an attribute condition (`attributes.tenant == principal.tenant_id`). This is
 * the policy step only (no gRPC, no verification); the decision cache, when it hits, skips it altogether.
 * Run: npx tsx bench/cel.bench.ts (or make bench-parts). Writes bench/results/cel.json.
 */
import type { RuleConfig } from '../src/config/schema.js';
import type { Principal } from '../src/contract/principal.js';
import { authorize } from '../src/policy/authorize.js';
import { compileRules } from '../src/policy/compile-rules.js';
import { rate, writeResults } from './lib/measure.js';

const ACTION = 'GET /users/alice/orders/42';
const principal: Principal = {
  issuer: 'https://idp.example',
  issuerId: 'idp',
  subject: 'alice',
  tenantId: 'contoso',
  objectId: 'oid',
  clientId: 'web',
  roles: ['Orders.Read'],
  scopes: [],
  groups: [],
  groupsOverage: false,
  appOnly: false,
  expiresAt: 2_000_000_000,
  tokenVersion: '2.0',
  claims: { sub: 'alice', roles: ['Orders.Read'] },
};

function policyWith(when: string | undefined) {
  const rule: RuleConfig = { id: 'own', actions: ['GET /users/{user}/orders/*'], public: false, any_roles: ['Orders.Read'] };
  return compileRules([when ? { ...rule, when } : rule], {}, ['idp']);
}

async function measure(name: string, when: string | undefined, facts?: { attributes: Record<string, string> }) {
  const policy = policyWith(when);
  const context = { facts, nowMs: Date.now() };
  const once = () => {
    const decision = authorize(policy, principal, ACTION, context);
    if (!decision.allowed) throw new Error(`${name}: denied ${decision.reason}`);
  };
  // Batches of 100 per await, so the promise machinery does not dominate a sub-microsecond call.
  const result = await rate(() => {
    for (let i = 0; i < 100; i++) once();
  }, 3000);
  return { name, when: when ?? null, microsPerDecision: Math.round((result.microsPerOp / 100) * 1000) / 1000 };
}

const baseline = await measure('baseline: same rule without when', undefined);
const ownership = await measure('ownership: params.user == principal.subject', 'params.user == principal.subject');
const attribute = await measure('attribute: attributes.tenant == principal.tenant_id', 'attributes.tenant == principal.tenant_id', {
  attributes: { tenant: 'contoso', region: 'eu' },
});
const results = {
  scenarios: [baseline, ownership, attribute],
  conditionCostMicros: {
    ownership: Math.round((ownership.microsPerDecision - baseline.microsPerDecision) * 1000) / 1000,
    attribute: Math.round((attribute.microsPerDecision - baseline.microsPerDecision) * 1000) / 1000,
  },
};
console.log(JSON.stringify(results, null, 2));
console.log(`wrote ${writeResults('cel', results)}`);
