/**
 * The real Prometheus server (Debian's `prometheus` package) on 127.0.0.1, scraping one target every second,
 * with its data in a temp dir; and `promtool`. A missing binary fails the test with the package to install:
 * telemetry is part of the product, so it is never skipped.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stopChild } from './proxy-process.js';

const INSTALL_HINT = 'install it with `apt-get install prometheus` (the Debian package ships prometheus and promtool)';

export interface QueryResult {
  readonly metric: Record<string, string>;
  /** The sample value, as a number. */
  readonly value: number;
  /** The sample's timestamp in epoch seconds. */
  readonly at: number;
}

export interface RunningPrometheus {
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  /** An instant query through `/api/v1/query`. */
  query(promql: string): Promise<QueryResult[]>;
  /** Resolves once a scrape of the target that started after `sinceMs` (epoch ms) has been stored. */
  waitForScrapeAfter(sinceMs: number, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** Fails (never skips) when a binary of the prometheus package is missing. */
export function requireBinary(name: 'prometheus' | 'promtool'): void {
  const probe = spawnSync(name, ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) throw new Error(`\`${name}\` was not found or does not run: ${INSTALL_HINT}`);
}

/** Runs promtool with `args` (and `input` on stdin); resolves to its exit status and output. */
export function promtool(args: string[], input?: string): { status: number; output: string } {
  requireBinary('promtool');
  const run = spawnSync('promtool', args, { input, encoding: 'utf8', timeout: 20_000 });
  return { status: run.status ?? -1, output: `${run.stdout}${run.stderr}` };
}

/** Starts Prometheus scraping `http://<target>/metrics` as job `gatehouse`, every second. */
export async function startPrometheus(target: string): Promise<RunningPrometheus> {
  requireBinary('prometheus');
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-prometheus-'));
  const config = join(dir, 'prometheus.yml');
  await writeFile(
    config,
    [
      'global:',
      '  scrape_interval: 1s',
      '  evaluation_interval: 1s',
      'scrape_configs:',
      '  - job_name: gatehouse',
      '    scrape_timeout: 900ms',
      '    static_configs:',
      `      - targets: ['${target}']`,
      '',
    ].join('\n'),
  );
  const child = spawn(
    'prometheus',
    [
      `--config.file=${config}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      // Port 0: the kernel picks a free port; Prometheus logs the one it got ("Listening on").
      '--web.listen-address=127.0.0.1:0',
      '--log.level=info',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  try {
    const url = await listeningUrl(child, (chunk) => (log += chunk));
    await waitUntil(async () => (await fetch(`${url}/-/ready`)).ok, 15_000, 'Prometheus to become ready');
    return running(url, child, dir);
  } catch (err) {
    await stopChild(child);
    await rm(dir, { recursive: true, force: true });
    throw new Error(`Prometheus did not start: ${(err as Error).message}\n${log.slice(-2000)}`);
  }
}

function running(url: string, child: ChildProcess, dir: string): RunningPrometheus {
  async function query(promql: string): Promise<QueryResult[]> {
    const res = await fetch(`${url}/api/v1/query?${new URLSearchParams({ query: promql })}`);
    const body = (await res.json()) as {
      status: string;
      error?: string;
      data?: { result: Array<{ metric: Record<string, string>; value: [number, string] }> };
    };
    if (body.status !== 'success' || !body.data) throw new Error(`query ${promql} failed: ${body.error ?? res.status}`);
    return body.data.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]), at: r.value[0] }));
  }
  return {
    url,
    query,
    async waitForScrapeAfter(sinceMs, timeoutMs = 15_000) {
      await waitUntil(
        async () => {
          const [up] = await query('timestamp(up{job="gatehouse"})');
          return up !== undefined && up.value * 1000 > sinceMs;
        },
        timeoutMs,
        'a scrape after the calls',
      );
      const [up] = await query('up{job="gatehouse"}');
      if (up?.value !== 1) throw new Error('Prometheus could not scrape gatehouse (up != 1)');
    },
    async stop() {
      await stopChild(child);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function listeningUrl(child: ChildProcess, onLog: (chunk: string) => void): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no "Listening on" line within 15s')), 15_000);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`${err.message}: ${INSTALL_HINT}`));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`prometheus exited with ${code}`));
    });
    let seen = '';
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      onLog(chunk);
      seen += chunk;
      const match = /msg="Listening on" address=(127\.0\.0\.1:\d+)/.exec(seen);
      if (match) {
        clearTimeout(timer);
        resolve(`http://${match[1]}`);
      }
    });
  });
}

async function waitUntil(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // Not up yet; try again.
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
