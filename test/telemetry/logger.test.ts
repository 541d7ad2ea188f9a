// Redaction: the fields where a token or secret could be put are censored in the line actually written.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { createLogger, isoTimePerMillisecond } from '../../src/telemetry/logger.js';

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

  it("writes the time as pino's isoTime does, formatted anew whenever the millisecond changes", () => {
    let now = Date.UTC(2026, 11, 1, 23, 59, 59, 999);
    const time = isoTimePerMillisecond(() => now);
    const pinoText = () => {
      const realNow = Date.now;
      Date.now = () => now;
      try {
        return pino.stdTimeFunctions.isoTime();
      } finally {
        Date.now = realNow;
      }
    };
    for (const step of [0, 0, 1, 1, 1000, 86_400_000, 0]) {
      now += step;
      assert.equal(time(), pinoText());
    }
    assert.equal(time(), ',"time":"2026-12-03T00:00:01.001Z"');
  });

  it('stamps every line with the current time', () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'info', destination: { write: (line: string) => void lines.push(line) } });
    const before = Date.now();
    logger.info('one');
    logger.info('two');
    const after = Date.now();
    for (const line of lines) {
      const at = Date.parse((JSON.parse(line) as { time: string }).time);
      assert.ok(at >= before && at <= after, line);
    }
  });
});
