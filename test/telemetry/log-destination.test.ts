// The bounded log destination over a stream that stalls or fails, as stdout does when its reader stalls or goes
// away: lines past the bound are dropped and counted exactly, never buffered without end; an error (EPIPE) drops
// everything after it without throwing; flush calls back even when the stream never drains.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { boundedDestination } from '../../src/telemetry/log-destination.js';
import { createLogger } from '../../src/telemetry/logger.js';

/** A stream whose reader has stalled: it takes every write and never completes one. */
function stalled(): Writable {
  return new Writable({ write() {} });
}

/** A stream that takes writes and keeps what it was given. */
function collecting(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  return { stream, text: () => chunks.join('') };
}

const LINE = `${'x'.repeat(99)}\n`;

describe('boundedDestination', () => {
  it('holds at most its bound of unwritten bytes, and counts every line past it', async () => {
    const out = stalled();
    const destination = boundedDestination(out, 10 * LINE.length);
    for (let i = 0; i < 25; i++) destination.write(LINE);
    await new Promise((resolve) => setImmediate(resolve)); // past the uncork
    assert.equal(destination.dropped(), 15);
    assert.equal(out.writableLength, 10 * LINE.length);
  });

  it('bounds bytes, not characters: lines of two-byte characters fill a byte-counting stream (a file) to the bound', async () => {
    const wide = `${'é'.repeat(49)}\n`; // 50 characters, 99 bytes
    const out = stalled();
    const destination = boundedDestination(out, 10 * Buffer.byteLength(wide));
    for (let i = 0; i < 25; i++) destination.write(wide);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(out.writableLength, 10 * Buffer.byteLength(wide));
    assert.equal(destination.dropped(), 15);
  });

  it('writes every line of a turn, in order, while the stream keeps up', async () => {
    const { stream, text } = collecting();
    const destination = boundedDestination(stream, 1024);
    for (let i = 0; i < 50; i++) destination.write(`${i}\n`);
    await new Promise<void>((resolve) => destination.flush(() => resolve()));
    assert.equal(text(), Array.from({ length: 50 }, (_, i) => `${i}\n`).join(''));
    assert.equal(destination.dropped(), 0);
  });

  it('sends the lines of one event-loop turn, from any number of callbacks, in one write, before the next turn', async () => {
    // One entry per write the stream receives: the text it carried.
    const writes: string[] = [];
    const stream = new Writable({
      writev(chunks, done) {
        writes.push(chunks.map(({ chunk }) => String(chunk)).join(''));
        done();
      },
      write(chunk, _encoding, done) {
        writes.push(String(chunk));
        done();
      },
    });
    const destination = boundedDestination(stream, 1024);
    // Three decisions answered in three callbacks of one turn (as I/O callbacks of one poll are).
    await new Promise<void>((resolve) => {
      for (let i = 0; i < 3; i++) process.nextTick(() => destination.write(LINE));
      process.nextTick(resolve);
    });
    assert.deepEqual(writes, []);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(writes, [LINE.repeat(3)]);
    assert.equal(destination.dropped(), 0);
  });

  it('still writes the lines of the last turn when the process exits in it (process.exit, an uncaught exception)', () => {
    const root = fileURLToPath(new URL('../../', import.meta.url));
    // A line written in one timer callback, the end in the next one of the same turn: no setImmediate runs between.
    const child = (end: string) =>
      `import { boundedDestination } from './src/telemetry/log-destination.ts';
       const destination = boundedDestination(process.stdout, 1 << 20);
       setTimeout(() => destination.write('{"msg":"last words"}\\n'), 0);
       setTimeout(() => { ${end} }, 0);`;
    const run = (end: string, stdout: 'pipe' | number) =>
      spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', child(end)], {
        cwd: root,
        stdio: ['ignore', stdout, 'pipe'],
        encoding: 'utf8',
      });
    const exited = run('process.exit(3);', 'pipe');
    assert.equal(exited.status, 3);
    assert.equal(exited.stdout, '{"msg":"last words"}\n', 'process.exit, stdout a pipe');
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-log-exit-'));
    try {
      const file = join(dir, 'out.log');
      const fd = openSync(file, 'w');
      const crashed = run("throw new Error('boom');", fd);
      closeSync(fd);
      assert.equal(crashed.status, 1);
      assert.match(crashed.stderr, /boom/);
      assert.equal(readFileSync(file, 'utf8'), '{"msg":"last words"}\n', 'an uncaught exception, stdout a file');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('after a write error (EPIPE) drops and counts every line, and never throws', async () => {
    const out = new Writable({
      write(_chunk, _encoding, done) {
        done(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
      },
    });
    const destination = boundedDestination(out, 1024);
    destination.write(LINE);
    await new Promise((resolve) => out.once('error', resolve));
    for (let i = 0; i < 5; i++) destination.write(LINE);
    assert.equal(destination.dropped(), 5);
    await new Promise<void>((resolve) => destination.flush(() => resolve()));
  });

  it('flush calls back although the stream never drains', async () => {
    const destination = boundedDestination(stalled(), 1024);
    destination.write(LINE);
    await new Promise<void>((resolve) => destination.flush(() => resolve(), 20));
  });

  it('is a pino destination: the logger writes its JSON lines through it', async () => {
    const { stream, text } = collecting();
    const destination = boundedDestination(stream, 1024 * 1024);
    const logger = createLogger({ level: 'info', destination });
    logger.info({ token: 'secret' }, 'hello');
    await new Promise<void>((resolve) => logger.flush(() => resolve()));
    const line = JSON.parse(text()) as Record<string, unknown>;
    assert.equal(line.msg, 'hello');
    assert.equal(line.token, '[redacted]');
  });
});
