// The audit trail does not depend on the operational log level: at `warn`, decisions are still audited while
// ordinary info lines are not; `silent` silences everything.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AuthorizeOutcome } from '../../src/decisions/outcome.js';
import { AuditLog } from '../../src/telemetry/audit.js';
import { createLogger } from '../../src/telemetry/logger.js';

const outcome: AuthorizeOutcome = {
  allowed: false,
  principal: undefined,
  issuerId: 'corp',
  reason: 'TOKEN_EXPIRED',
  message: 'expired',
  rule: '',
  cacheForMs: 0,
  cached: false,
};

function linesAt(level: 'warn' | 'silent') {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({ level, destination: { write: (line: string) => void lines.push(JSON.parse(line)) } });
  logger.info('an ordinary info line');
  new AuditLog(logger).record({ requestId: 'r-1', action: '/a.v1.A/Get', outcome, latencySeconds: 0.0001, door: 'grpc' });
  return lines;
}

describe('audit log level', () => {
  it('audits at logging.level warn, without the info lines', () => {
    const lines = linesAt('warn');
    assert.deepEqual(
      lines.map((l) => [l.name, l.msg, l.request_id, l.reason]),
      [['audit', 'decision', 'r-1', 'TOKEN_EXPIRED']],
    );
  });

  it('writes nothing at all when silent', () => {
    assert.deepEqual(linesAt('silent'), []);
  });
});
