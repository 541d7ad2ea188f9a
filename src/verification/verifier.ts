/** Builds the verification core from a validated config: issuer registry, key cache, and the context. */
import type { Config } from '../config/schema.js';
import { systemClock, type Clock } from './clock.js';
import type { Fetch } from './fetch-json.js';
import { IssuerRegistry } from './issuers/registry.js';
import { KeyCache } from './key-cache.js';
import { noopObserver, type VerificationObserver } from './observer.js';
import type { VerificationContext } from './verify-token.js';

export interface VerifierDeps {
  readonly clock?: Clock;
  readonly fetch?: Fetch;
  readonly observer?: VerificationObserver;
}

export function createVerificationContext(config: Config, deps: VerifierDeps = {}): VerificationContext {
  const clock = deps.clock ?? systemClock;
  const registry = new IssuerRegistry(config.issuers);
  const keyCache = new KeyCache(registry.sources, {
    refreshIntervalMs: config.keys.refresh_interval,
    unknownKidCooldownMs: config.keys.unknown_kid_cooldown,
    maxStaleMs: config.keys.max_stale,
    maxKeys: config.keys.max_keys,
    fetchTimeoutMs: config.keys.fetch_timeout,
    clock,
    fetch: deps.fetch ?? globalThis.fetch,
    observer: deps.observer ?? noopObserver,
  });
  return { registry, keyCache, clock, clockSkewMs: config.tokens.clock_skew, maxTokenBytes: config.tokens.max_bytes };
}
