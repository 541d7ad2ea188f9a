// Redaction: the fields where a token or secret could be put are censored in the line actually written.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLogger } from '../../src/telemetry/logger.js';

describe('logger', () => {
  it('censors tokens, authorization metadata and client secrets', () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'info', destination: { write: (line: string) => void lines.push(line) } });
    logger.info(
      {
        token: 'eyJ.s3cr3t.tok',
        authorization: 'Bearer eyJ.s3cr3t.tok',
        metadata: { authorization: 'Bearer eyJ.s3cr3t.tok' },
        headers: { authorization: 'Bearer eyJ.s3cr3t.tok' },
        client_secret: 'hunter2',
        access_token: 'eyJ.s3cr3t.tok',
        subject: 'alice',
      },
      'call',
    );
    assert.equal(lines.length, 1);
    const line = JSON.parse(lines[0]!) as Record<string, any>;
    assert.equal(line.subject, 'alice', 'other fields are kept');
    assert.equal(line.token, '[redacted]');
    assert.equal(line.metadata.authorization, '[redacted]');
    assert.doesNotMatch(lines[0]!, /s3cr3t|hunter2/);
  });
});
