// Logging never stops the service. A real `gatehouse serve` whose stdout is a pipe nobody reads (a stalled log
// shipper) keeps answering while its bounded log buffer drops lines and counts them; SIGTERM still ends it (exit 0,
// no SIGKILL). With its stdout gone (EPIPE: an orphaned process) it neither crashes nor hangs.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AuthTestClient } from '../helpers/gatehouse.js';
import { parseExposition, valueOf } from '../telemetry/exposition.js';
import { LOOPBACK_AUDIENCE, startLoopbackIssuer, type LoopbackIssuer } from '../verification/loopback-issuer.js';
import { CliProcess, tempDir } from './cli-process.js';

const ACTION = 'orders:read';
/** Actions per AuthorizeBatch: each decision writes one audit line (~400 bytes). */
const BATCH = 100;
/** 40 batches: ~1.6 MB of audit lines, the 64 KiB pipe buffer and the 16 KiB log buffer many times over. */
const BATCHES = 40;
/** A generous liveness bound on the exit after SIGTERM (a hung process is the failure here, not a slow one). */
const EXIT_BOUND_MS = 30_000;

describe('gatehouse serve: logging never stops the service', () => {
  let issuer: LoopbackIssuer;
  let token: string;
  let file: string;
  let remove: () => void;
  const cleanups: (() => Promise<void> | void)[] = [];

  before(async () => {
    let dir: string;
    ({ dir, remove } = tempDir());
    issuer = await startLoopbackIssuer();
    token = issuer.token({ claims: { roles: ['Orders.Read'] } });
    file = join(dir, 'gatehouse.json');
    writeFileSync(
      file,
      JSON.stringify({
        server: { grpc: '127.0.0.1:0', http: '127.0.0.1:0', shutdown_grace: '2s' },
        issuers: [{ id: 'idp', type: 'oidc', issuer: issuer.issuer, audiences: [LOOPBACK_AUDIENCE] }],
        rules: [{ id: 'orders', actions: [ACTION], any_roles: ['Orders.Read'] }],
        logging: { level: 'info', buffer_bytes: 16 * 1024 },
      }),
    );
  });
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    await issuer?.close();
    remove?.();
  });

  async function start() {
    const serve = new CliProcess(['serve', '--config', file]);
    const listening = await serve.waitForLog('gatehouse listening');
    const client = new AuthTestClient(`127.0.0.1:${String(listening.grpc)}`);
    cleanups.push(
      () => serve.kill(),
      () => client.close(),
    );
    const dropped = async () =>
      valueOf(
        parseExposition(await (await fetch(`http://127.0.0.1:${String(listening.http)}/metrics`)).text()),
        'gatehouse_log_lines_dropped_total',
      ) ?? -1;
    /** `batches` AuthorizeBatch calls of BATCH actions, one after another; every decision must be an allow. */
    const drive = async (batches: number) => {
      for (let i = 0; i < batches; i++) {
        const reply = await client.authorizeBatch(
          token,
          Array.from({ length: BATCH }, () => ACTION),
        );
        assert.equal(reply.response.results.filter((r) => r.allowed).length, BATCH, `batch ${i} answered in full`);
      }
    };
    return { serve, dropped, drive };
  }

  async function exitsOnSigterm(serve: CliProcess) {
    serve.signal('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<string>((resolve) => (timer = setTimeout(() => resolve('still running'), EXIT_BOUND_MS)));
    const outcome = await Promise.race([serve.exited(), bound]);
    clearTimeout(timer);
    assert.deepEqual(outcome, { code: 0, signal: null }, `stderr:\n${serve.stderr}`);
  }

  it('keeps answering with stdout a pipe nobody reads, counts the lines it drops, and still exits on SIGTERM', async () => {
    const { serve, dropped, drive } = await start();
    assert.equal(await dropped(), 0, 'nothing dropped while stdout is read');
    serve.stopReadingStdout();
    await drive(BATCHES);
    const before = await dropped();
    assert.ok(before > 0, `lines were dropped (${before})`);
    // The buffer is full and nobody reads: the audit lines of one more batch are (all but at most a few) dropped.
    await drive(1);
    const more = (await dropped()) - before;
    assert.ok(more > BATCH * 0.9 && more <= BATCH, `one more batch dropped ${more} of its ${BATCH} audit lines`);
    await exitsOnSigterm(serve);
  });

  it('neither crashes nor hangs when its stdout is gone (EPIPE), and counts what it cannot write', async () => {
    const { serve, dropped, drive } = await start();
    serve.closeStdout();
    await drive(5);
    assert.ok((await dropped()) > 0, 'lines written to a closed pipe are counted as dropped');
    await drive(5);
    await exitsOnSigterm(serve);
    assert.doesNotMatch(serve.stderr, /EPIPE|Unhandled|Error/);
  });
});
