/**
 * One JSON line per decision on the logger named `audit`: who (issuer, tenant, subject, object, client), what
 * (action), the outcome (allowed, reason, rule, cached) and how long it took. Never the token.
 */
import type { Logger } from 'pino';
import type { AuthorizeOutcome } from '../decisions/outcome.js';
import type { Door } from '../server/telemetry-hooks.js';

export interface AuditEntry {
  readonly requestId: string;
  readonly action: string;
  readonly outcome: AuthorizeOutcome;
  readonly latencySeconds: number;
  /** The front door that asked. */
  readonly door: Door;
}

export class AuditLog {
  readonly #logger: Logger;

  constructor(logger: Logger) {
    // Decisions are audited whatever the operational log level (warn, error…); only `silent` silences them.
    this.#logger = logger.child({ name: 'audit' }, { level: logger.level === 'silent' ? 'silent' : 'info' });
  }

  record(entry: AuditEntry): void {
    if (!this.#logger.isLevelEnabled('info')) return;
    const { outcome } = entry;
    const principal = outcome.principal;
    this.#logger.info(
      {
        request_id: entry.requestId,
        door: entry.door,
        issuer: outcome.issuerId,
        tenant: principal?.tenantId ?? '',
        subject: principal?.subject ?? '',
        object_id: principal?.objectId ?? '',
        client_id: principal?.clientId ?? '',
        action: entry.action,
        allowed: outcome.allowed,
        decision: outcome.allowed ? 'allow' : 'deny',
        reason: outcome.allowed ? '' : outcome.reason,
        rule: outcome.rule,
        cached: outcome.cached,
        latency_ms: Math.round(entry.latencySeconds * 1e6) / 1e3,
        ...(!outcome.allowed && outcome.detail ? { detail: outcome.detail } : {}),
      },
      'decision',
    );
  }
}
