/** Config → a ready Authorizer: verification core plus compiled rules. Throws ConfigError-style problems. */
import type { Config } from '../config/schema.js';
import { compileRules } from '../policy/compile-rules.js';
import { systemClock } from '../verification/clock.js';
import { createVerificationContext, type VerifierDeps } from '../verification/verifier.js';
import type { VerificationContext } from '../verification/verify-token.js';
import { Authorizer } from './authorizer.js';
import type { RevocationsInForce } from './revocation-source.js';

export function compilePolicy(config: Config) {
  return compileRules(
    config.rules,
    config.groups,
    config.issuers.map((i) => i.id),
    { maxAgeMs: config.tokens.max_age, clockSkewMs: config.tokens.clock_skew },
  );
}

/**
 * `verification`: reuse a running core (its key cache) instead of building one, e.g. on a reload. `revocations`:
 * the list in force, shared across reloads (absent: nothing is revoked).
 */
export function createAuthorizer(
  config: Config,
  deps: VerifierDeps = {},
  verification?: VerificationContext,
  revocations?: RevocationsInForce,
): Authorizer {
  const policy = compilePolicy(config);
  const clock = deps.clock ?? systemClock;
  return new Authorizer({
    verification: verification ?? createVerificationContext(config, { ...deps, clock }),
    policy,
    clock,
    decisionMaxTtlMs: config.decisions.max_ttl,
    decisionMaxEntries: config.decisions.max_entries,
    decisionMaxBytes: config.decisions.max_bytes,
    ...(revocations ? { revocations } : {}),
    ...(config.revocations.file ? { callerCacheMaxMs: config.revocations.client_cache_max } : {}),
  });
}
