/** Config → a ready Authorizer: verification core plus compiled rules. Throws ConfigError-style problems. */
import type { Config } from '../config/schema.js';
import { compileRules } from '../policy/compile-rules.js';
import { systemClock } from '../verification/clock.js';
import { createVerificationContext, type VerifierDeps } from '../verification/verifier.js';
import { Authorizer } from './authorizer.js';

export function compilePolicy(config: Config) {
  return compileRules(
    config.rules,
    config.groups,
    config.issuers.map((i) => i.id),
  );
}

export function createAuthorizer(config: Config, deps: VerifierDeps = {}): Authorizer {
  const policy = compilePolicy(config);
  const clock = deps.clock ?? systemClock;
  return new Authorizer({
    verification: createVerificationContext(config, { ...deps, clock }),
    policy,
    clock,
    decisionMaxTtlMs: config.decisions.max_ttl,
    decisionMaxEntries: config.decisions.max_entries,
  });
}
