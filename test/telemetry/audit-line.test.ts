// The audit line gatehouse writes itself (telemetry/audit.ts) against the line pino writes for the same fields: byte
// for byte, for every shape of decision and for strings that need escaping; a logger that would change the line
// (a redaction of one of its fields, a mixin) gets pino's own path; the line stays JSON where pino's would not.
import assert from 'node:assert/strict';
import { tracingChannel } from 'node:diagnostics_channel';
import { describe, it } from 'node:test';
import pino from 'pino';
import type { Principal } from '../../src/contract/principal.js';
import type { AuthorizeOutcome } from '../../src/decisions/outcome.js';
import { AuditLog, auditFields, type AuditEntry } from '../../src/telemetry/audit.js';
import { createLogger } from '../../src/telemetry/logger.js';

const NOW = Date.UTC(2026, 11, 2, 3, 4, 5, 678);

function lines(): { destination: { write(line: string): void }; written: string[] } {
  const written: string[] = [];
  return { destination: { write: (line: string) => void written.push(line) }, written };
}

function principal(overrides: Partial<Principal> = {}): Principal {
  return {
    issuer: 'https://login.example.com/t/v2.0',
    issuerId: 'contoso',
    subject: 'user-1',
    tenantId: '72f988bf-86f1-41af-91ab-2d7cd011db47',
    objectId: 'oid-1',
    clientId: 'app-1',
    roles: ['Orders.Read'],
    scopes: [],
    groups: [],
    groupsOverage: false,
    appOnly: false,
    expiresAt: NOW / 1000 + 3600,
    tokenVersion: '2.0',
    claims: {},
    ...overrides,
  } as Principal;
}

const allowed = (who: Principal | undefined, cached = true): AuthorizeOutcome => ({
  allowed: true,
  principal: who,
  issuerId: who ? 'contoso' : '',
  rule: 'orders-read',
  cacheForMs: 60_000,
  cached,
});

const denied = (who: Principal | undefined, detail?: string): AuthorizeOutcome => ({
  allowed: false,
  principal: who,
  issuerId: 'contoso',
  rule: who ? 'orders-admin' : '',
  cacheForMs: 0,
  cached: false,
  reason: who ? 'MISSING_ROLE' : 'SIGNATURE_INVALID',
  message: 'no',
  ...(detail ? { detail } : {}),
});

const entry = (outcome: AuthorizeOutcome, overrides: Partial<AuditEntry> = {}): AuditEntry => ({
  requestId: 'req-1',
  action: '/orders.v1.Orders/GetOrder',
  outcome,
  latencySeconds: 0.0001234,
  door: 'grpc',
  ...overrides,
});

const awkward = 'a "quoted" \\ back\\slash, a\nnew line, a \u0001 control, é, 😀, </script>';
const CASES: Record<string, AuditEntry> = {
  'allowed, cached': entry(allowed(principal())),
  'allowed by a public rule: no principal': entry(allowed(undefined, false), { door: 'http', action: 'GET /health' }),
  'denied by the rules': entry(denied(principal())),
  'a refused token, with operator detail': entry(denied(undefined, 'kid k9 not in the key set')),
  'every claim needing escapes': entry(
    allowed(principal({ subject: awkward, tenantId: '', objectId: awkward, clientId: 'x'.repeat(150) })),
    {
      action: `/odd.v1.Odd/${awkward}`,
      requestId: 'r:1/2+3=4',
      door: 'envoy',
    },
  ),
  'a long latency': entry(allowed(principal()), { latencySeconds: 12.3456789 }),
};

describe('audit line', () => {
  it('is byte for byte what pino writes for the same fields, for every shape of decision', () => {
    for (const [name, e] of Object.entries(CASES)) {
      const mine = lines();
      new AuditLog(createLogger({ level: 'info', destination: mine.destination, now: () => NOW })).record(e);
      const theirs = lines();
      const reference = createLogger({ level: 'info', destination: theirs.destination, now: () => NOW }).child({ name: 'audit' });
      reference.info(auditFields(e), 'decision');
      assert.equal(mine.written.length, 1, name);
      assert.equal(mine.written[0], theirs.written[0], name);
      const parsed = JSON.parse(mine.written[0]!) as Record<string, unknown>;
      assert.equal(parsed.name, 'audit', name);
      assert.equal(parsed.msg, 'decision', name);
    }
  });

  it('written at warn level too (decisions are audited whatever the level), and not at all when silent', () => {
    const warn = lines();
    new AuditLog(createLogger({ level: 'warn', destination: warn.destination })).record(CASES['denied by the rules']!);
    assert.equal(warn.written.length, 1);
    const silent = lines();
    new AuditLog(createLogger({ level: 'silent', destination: silent.destination })).record(CASES['denied by the rules']!);
    assert.equal(silent.written.length, 0);
  });

  it('a logger that redacts one of its fields, or has a mixin, gets pino’s own path', () => {
    const redacting = lines();
    new AuditLog(pino({ redact: ['subject'] }, redacting.destination)).record(CASES['allowed, cached']!);
    assert.equal(JSON.parse(redacting.written[0]!).subject, '[Redacted]');
    const mixing = lines();
    new AuditLog(pino({ mixin: () => ({ zone: 'eu' }) }, mixing.destination)).record(CASES['allowed, cached']!);
    const line = JSON.parse(mixing.written[0]!) as Record<string, unknown>;
    assert.deepEqual([line.zone, line.subject, line.msg], ['eu', 'user-1', 'decision']);
    const redactingMsg = lines();
    new AuditLog(pino({ redact: ['msg'] }, redactingMsg.destination)).record(CASES['allowed, cached']!);
    assert.equal(JSON.parse(redactingMsg.written[0]!).msg, '[Redacted]');
    const prefixed = lines();
    new AuditLog(pino({}, prefixed.destination).child({}, { msgPrefix: '[eu] ' })).record(CASES['allowed, cached']!);
    assert.equal(JSON.parse(prefixed.written[0]!).msg, '[eu] decision');
    const erring = lines();
    new AuditLog(pino({ errorKey: 'detail', serializers: { detail: () => 'serialized' } }, erring.destination)).record(
      CASES['a refused token, with operator detail']!,
    );
    assert.equal(JSON.parse(erring.written[0]!).detail, 'serialized');
  });

  it('lets pino write (and trace) the line while its pino_asJson diagnostics channel has a subscriber', () => {
    const out = lines();
    const audit = new AuditLog(createLogger({ level: 'info', destination: out.destination, now: () => NOW }));
    const seen: unknown[] = [];
    const subscriber = { start: (message: unknown) => void seen.push(message), end() {}, asyncStart() {}, asyncEnd() {}, error() {} };
    const channel = tracingChannel('pino_asJson');
    channel.subscribe(subscriber);
    try {
      audit.record(CASES['allowed, cached']!);
    } finally {
      channel.unsubscribe(subscriber);
    }
    assert.equal(seen.length, 1, 'pino traced it');
    audit.record(CASES['allowed, cached']!);
    assert.equal(seen.length, 1);
    assert.equal(out.written[0], out.written[1], 'the same line either way');
  });

  it('stays JSON, and keeps the text, for a claim with a lone surrogate', () => {
    const lone = `bad \ud800 surrogate`;
    const out = lines();
    new AuditLog(createLogger({ level: 'info', destination: out.destination })).record(entry(allowed(principal({ subject: lone }))));
    assert.equal((JSON.parse(out.written[0]!) as { subject: string }).subject, lone);
    assert.ok(Buffer.from(out.written[0]!, 'utf8').toString('utf8') === out.written[0], 'the line survives UTF-8 as written');
  });
});
