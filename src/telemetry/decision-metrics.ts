/**
 * Turns what the adapters and the verification core report (DecisionHooks, VerificationObserver) into metrics.
 * Every label value comes from configuration or a fixed set: an issuer id the config names (anything else is
 * "unknown"), a rule id, a reason, a cache result. Never the subject, the token, its kid or the action.
 */
import type { AuthorizeOutcome, VerifyOutcome } from '../decisions/outcome.js';
import type { DecisionHooks, Door } from '../server/telemetry-hooks.js';
import type { VerificationObserver } from '../verification/observer.js';
import type { GatehouseMetrics } from './metrics.js';

export const UNKNOWN_ISSUER = 'unknown';

export interface DecisionMetricsOptions {
  /** True for an issuer id of the running config (read per call, so a reload's issuers count at once). */
  readonly isConfiguredIssuer: (issuerId: string) => boolean;
}

export interface DecisionMetrics extends Pick<DecisionHooks, 'onAuthorize' | 'onVerify'> {
  readonly observer: VerificationObserver;
  /**
   * The configured issuers: their key counters start at zero (so `increase()` and alerts see them from the
   * first scrape) and gauges of issuers a reload removed go away.
   */
  setIssuers(ids: ReadonlySet<string>): void;
}

export function decisionMetrics(metrics: GatehouseMetrics, options: DecisionMetricsOptions): DecisionMetrics {
  const { decisions, keys, cacheLookups } = metrics;
  const issuerLabel = (id: string | undefined) => (id !== undefined && options.isConfiguredIssuer(id) ? id : UNKNOWN_ISSUER);
  const tenantOf = (outcome: AuthorizeOutcome) => (metrics.tenantLabel ? (outcome.principal?.tenantId ?? '') : undefined);
  const heldIssuers = new Set<string>();
  // Series written on every call: these four held here, the others found by a key of their label values (below;
  // "\0" never occurs in a label value), so that no call builds a label object.
  const decisionLookups = {
    hit: cacheLookups.series({ cache: 'decision', result: 'hit' }),
    miss: cacheLookups.series({ cache: 'decision', result: 'miss' }),
  };
  const keyLookups = {
    hit: cacheLookups.series({ cache: 'key', result: 'hit' }),
    miss: cacheLookups.series({ cache: 'key', result: 'miss' }),
  };

  return {
    onAuthorize(_action: string, outcome: AuthorizeOutcome, seconds: number, _requestId: string, door: Door) {
      const issuer = issuerLabel(outcome.issuerId || undefined);
      const decision = outcome.allowed ? 'allow' : 'deny';
      const tenant = tenantOf(outcome);
      const { rule } = outcome;
      decisions.decisions.keyed(`${issuer}\0${rule}\0${decision}\0${door}\0${tenant}`, () => ({
        issuer,
        rule,
        decision,
        door,
        tenant,
      })).count += 1;
      if (!outcome.allowed) {
        const { reason } = outcome;
        decisions.denials.keyed(`${issuer}\0${reason}\0${door}\0${tenant}`, () => ({ issuer, reason, door, tenant })).count += 1;
      }
      const cache = outcome.cached ? 'hit' : 'miss';
      decisions.authorizeDuration.keyed(`${cache}\0${door}`, () => ({ cache, door })).observe(seconds);
      if (consultedDecisionCache(outcome)) decisionLookups[cache].count += 1;
    },

    onVerify(_outcome: VerifyOutcome, seconds: number, cached: boolean) {
      decisions.verifyDuration.observe({ cache: cached ? 'hit' : 'miss' }, seconds);
    },

    setIssuers(ids) {
      for (const issuer of ids) {
        keys.fetches.inc({ issuer, outcome: 'success' }, 0);
        keys.fetches.inc({ issuer, outcome: 'failure' }, 0);
        keys.refetchesSuppressed.inc({ issuer }, 0);
      }
      for (const issuer of heldIssuers) {
        if (ids.has(issuer)) continue;
        keys.held.remove({ issuer });
        heldIssuers.delete(issuer);
      }
    },

    observer: {
      keyLookup(_issuerId, result) {
        keyLookups[result].count += 1;
      },
      keyFetch(issuerId, outcome, seconds) {
        const issuer = issuerLabel(issuerId);
        keys.fetches.inc({ issuer, outcome });
        keys.fetchDuration.observe({ issuer }, seconds);
      },
      refetchSuppressed(issuerId) {
        keys.refetchesSuppressed.inc({ issuer: issuerLabel(issuerId) });
      },
      keySetState(issuerId, state) {
        const issuer = issuerLabel(issuerId);
        heldIssuers.add(issuer);
        keys.held.set({ issuer }, state.keys);
      },
    },
  };
}

/**
 * The Authorizer looks a decision up only for a non-public action with a token: a public rule's allow (no
 * principal, no reason) and TOKEN_MISSING never touched the cache.
 */
function consultedDecisionCache(outcome: AuthorizeOutcome): boolean {
  if (outcome.cached) return true;
  if (outcome.allowed) return outcome.principal !== undefined;
  return outcome.reason !== 'TOKEN_MISSING';
}
