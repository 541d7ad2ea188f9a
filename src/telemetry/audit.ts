/**
 * One JSON line per decision on the logger named `audit`: who (issuer, tenant, subject, object, client), what
 * (action), the outcome (allowed, reason, rule, cached) and how long it took. Never the token.
 *
 * Every decision of every door writes one, so the line is put together here rather than by pino's generic
 * serializer: pino's own pieces (the level, the time, the logger's bindings, the line's end; `pino.symbols`) around
 * the fields, the principal's four kept per cached principal. The same bytes as `logger.info(auditFields(entry),
 * 'decision')` (test/telemetry/audit-line.test.ts compares them), a third of the CPU (1.0 against 3.0 µs a line,
 * bench/results/hot-path.md). A logger that would change the line (a mixin, a hook, a formatter of objects, a
 * serializer or a redaction of one of these fields, a stream that wants metadata) gets pino's path instead.
 */
import { tracingChannel } from 'node:diagnostics_channel';
import pino, { type Logger } from 'pino';
import type { Principal } from '../contract/principal.js';
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

/** The fields of a decision's line, in their order. */
export function auditFields(entry: AuditEntry): Record<string, unknown> {
  const { outcome } = entry;
  const principal = outcome.principal;
  return {
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
    latency_ms: latencyMs(entry.latencySeconds),
    ...(!outcome.allowed && outcome.detail ? { detail: outcome.detail } : {}),
  };
}

/** Every key auditFields may write: those of a denial with operator detail (the one shape that has them all). */
const FIELDS = Object.keys(
  auditFields({
    requestId: '',
    action: '',
    door: 'grpc',
    latencySeconds: 0,
    outcome: {
      allowed: false,
      reason: 'TOKEN_MISSING',
      message: '',
      detail: '-',
      principal: undefined,
      issuerId: '',
      rule: '',
      cacheForMs: 0,
      cached: false,
    },
  }),
);
const MESSAGE = 'decision';
const MESSAGE_KEY = 'msg';

export class AuditLog {
  readonly #logger: Logger;
  readonly #line: ((entry: AuditEntry) => void) | undefined;

  constructor(logger: Logger) {
    // Decisions are audited whatever the operational log level (warn, error…); only `silent` silences them.
    this.#logger = logger.child({ name: 'audit' }, { level: logger.level === 'silent' ? 'silent' : 'info' });
    this.#line = preparedLine(this.#logger);
  }

  record(entry: AuditEntry): void {
    if (!this.#logger.isLevelEnabled('info')) return;
    if (this.#line) this.#line(entry);
    else this.#logger.info(auditFields(entry), MESSAGE);
  }
}

function latencyMs(seconds: number): number | null {
  // pino writes a number that is not finite as null; so does the prepared line.
  return Number.isFinite(seconds) ? Math.round(seconds * 1e6) / 1e3 : null;
}

// pino's internals, through its public symbols; typed loosely, as pino types them only as symbols (msgPrefixSym, which
// pino exports but does not type, included).
type Internals = Record<symbol, any>;
const S = pino.symbols as typeof pino.symbols & { readonly msgPrefixSym: symbol };
const traced = tracingChannel('pino_asJson');

/**
 * The line writer for `logger`, or undefined when pino would write anything else than the fields as they are (then
 * pino writes every line). Strings are escaped by JSON.stringify (pino's own for strings over 100 characters, and for
 * all from Node 25 on); for a lone surrogate it writes the `\ud800` escape where pino's hand loop of older Nodes wrote
 * the bare code unit, which no UTF-8 reader can decode: the one place the two may differ.
 */
function preparedLine(logger: Logger): ((entry: AuditEntry) => void) | undefined {
  const internals = logger as unknown as Internals;
  const stringifiers = internals[S.stringifiersSym] as Record<string | symbol, unknown>;
  const serializers = internals[S.serializersSym] as Record<string, unknown>;
  const formatters = internals[S.formattersSym] as { log?: unknown };
  const hooks = internals[S.hooksSym] as { logMethod?: unknown; streamWrite?: unknown };
  const stream = internals[S.streamSym] as { write(line: string): void } & Internals;
  const ownFields =
    internals[S.mixinSym] ||
    formatters.log ||
    hooks.logMethod ||
    hooks.streamWrite ||
    internals[S.nestedKeySym] ||
    internals[S.messageKeySym] !== MESSAGE_KEY ||
    stringifiers[S.wildcardFirstSym] ||
    stream[S.needsMetadataGsym] === true ||
    internals[S.msgPrefixSym] ||
    stringifiers[MESSAGE_KEY] ||
    serializers[MESSAGE_KEY] ||
    FIELDS.includes(internals[S.errorKeySym] as string) ||
    FIELDS.some((field) => stringifiers[field] || serializers[field]);
  if (ownFields) return undefined;

  const start = (internals[S.lsCacheSym] as Record<number, string>)[30]!; // `{"level":"info"`
  const time = internals[S.timeSym] as () => string;
  const end = `,"${MESSAGE_KEY}":"${MESSAGE}"${internals[S.endSym] as string}`;
  const text = JSON.stringify;
  const byPrincipal = new WeakMap<Principal, string>();
  const fieldsOf = (principal: Principal): string =>
    `,"tenant":${text(principal.tenantId ?? '')},"subject":${text(principal.subject ?? '')},"object_id":${text(principal.objectId ?? '')},"client_id":${text(principal.clientId ?? '')}`;
  // Kept only for a principal served from the cache, which will be seen again: a WeakMap entry for a token used once
  // costs more garbage collection (~1.9 µs, measured) than writing its four fields (~0.45 µs).
  const principalFields = (principal: Principal | undefined, cached: boolean): string => {
    if (!principal) return ',"tenant":"","subject":"","object_id":"","client_id":""';
    if (!cached) return fieldsOf(principal);
    let fields = byPrincipal.get(principal);
    if (fields === undefined) {
      fields = fieldsOf(principal);
      byPrincipal.set(principal, fields);
    }
    return fields;
  };
  return (entry) => {
    // pino traces each line on its `pino_asJson` channel; with a subscriber there, let pino write (and trace) it.
    if (traced.hasSubscribers) {
      logger.info(auditFields(entry), MESSAGE);
      return;
    }
    const { outcome } = entry;
    stream.write(
      `${start}${time()}${internals[S.chindingsSym] as string},"request_id":${text(entry.requestId ?? '')},"door":${text(entry.door ?? '')}` +
        `,"issuer":${text(outcome.issuerId ?? '')}${principalFields(outcome.principal, outcome.cached)},"action":${text(entry.action ?? '')}` +
        `,"allowed":${outcome.allowed === true},"decision":"${outcome.allowed ? 'allow' : 'deny'}"` +
        `,"reason":${outcome.allowed ? '""' : text(outcome.reason ?? '')},"rule":${text(outcome.rule ?? '')}` +
        `,"cached":${outcome.cached === true},"latency_ms":${latencyMs(entry.latencySeconds)}` +
        `${!outcome.allowed && outcome.detail ? `,"detail":${text(outcome.detail)}` : ''}${end}`,
    );
  };
}
