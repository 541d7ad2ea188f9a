/**
 * `gatehouse serve` with server.workers > 1: this process forks the workers (node:cluster), which share the gRPC
 * and HTTP ports and each run src/main.ts as a single gatehouse would. The primary opens no listener, stays
 * small, and owns what must be done once for the group:
 *
 * - signals: SIGTERM/SIGINT are forwarded to every worker (each drains as one gatehouse does); the primary exits
 *   0 once all have exited 0, or kills what is left and exits 1 after server.shutdown_delay + shutdown_grace
 *   (+ a margin to flush logs). A second signal kills the workers and exits 1 at once. SIGHUP is forwarded.
 * - file watches: one per file (file-watches.ts); every worker reloads on a change and logs its outcome.
 * - /metrics: whichever worker is asked, the primary merges every serving worker's metrics and its own.
 * - restarts: a worker that exits unexpectedly is logged, counted and replaced after a backoff.
 */
import cluster, { type Worker } from 'node:cluster';
import type { Config } from '../config/schema.js';
import { aggregateExposition, metricsJson, type MetricsJson } from '../telemetry/group-metrics.js';
import { exitAfterFlush, type Logger } from '../telemetry/logger.js';
import { createPrimaryMetrics } from '../telemetry/primary-metrics.js';
import { FileWatches } from './file-watches.js';
import { isOurs, tellWorker, type PrimaryMessage, type WorkerMessage } from './messages.js';
import { RestartBackoff } from './restart-backoff.js';

/** A worker's metrics must arrive within this, or the scrape fails (a partial sum would look like a counter reset). */
const COLLECT_TIMEOUT_MS = 5_000;
/** After the grace, time for the workers to flush their logs and exit. */
const EXIT_MARGIN_MS = 3_000;

export interface PrimaryOptions {
  readonly logger: Logger;
}

/** Forks the workers; resolves with the ports once all listen, rejects (and stops them) if one cannot start. */
export function runPrimary(config: Config, options: PrimaryOptions): Promise<{ grpc: number; http: number }> {
  const logger = options.logger.child({ role: 'primary' });
  const metrics = createPrimaryMetrics();
  const backoff = new RestartBackoff();
  const watches = new FileWatches((file, dir, err) => logger.warn({ file, dir, err }, 'cannot watch this file here; SIGHUP reloads it'));
  const serving = new Set<Worker>();
  const collects = new Map<number, { worker: Worker; done: (metrics?: MetricsJson, error?: string) => void }>();
  let nextCollect = 0;
  let started = false;
  let stopping = false;
  let failStart: (err: Error) => void = () => {};
  let ports = { grpc: 0, http: 0 };

  // Workers whose exit has not been handled yet (not `isDead()`: one may be dead before its exit event runs).
  const live = new Set<Worker>();
  const alive = () => [...live];
  const fork = () => {
    const worker = cluster.fork();
    live.add(worker);
    metrics.setRunning(alive().length);
    worker.on('message', (message: unknown) => onMessage(worker, message));
    // The channel failing (a worker ending mid-send) must not end the primary; the exit is handled below.
    worker.on('error', (err) => logger.warn({ worker: worker.id, err }, 'worker channel error'));
    return worker;
  };

  const collect = (worker: Worker) =>
    new Promise<MetricsJson>((resolve, reject) => {
      const id = nextCollect++;
      const timer = setTimeout(() => done(undefined, 'timed out'), COLLECT_TIMEOUT_MS);
      const done = (m?: MetricsJson, error?: string) => {
        clearTimeout(timer);
        collects.delete(id);
        if (m) resolve(m);
        else reject(new Error(`worker ${worker.id}: ${error ?? 'no metrics'}`));
      };
      collects.set(id, { worker, done });
      tellWorker(worker, { gatehouse: 'collect', id });
    });

  const scrape = async (): Promise<PrimaryMessage & { gatehouse: 'scraped' }> => {
    const parts = await Promise.all([...serving].map(collect));
    const { contentType, body } = await aggregateExposition([...parts, await metricsJson(metrics.registry)]);
    return { gatehouse: 'scraped', id: -1, contentType, body };
  };

  const onMessage = (worker: Worker, message: unknown) => {
    if (!isOurs<WorkerMessage>(message)) return;
    switch (message.gatehouse) {
      case 'ready':
        serving.add(worker);
        ports = { grpc: message.grpc, http: message.http };
        if (started) logger.info({ worker: worker.id, pid: worker.process.pid }, 'worker restarted and serving');
        else if (serving.size === config.server.workers) {
          started = true;
          logger.info({ workers: serving.size, pids: [...serving].map((w) => w.process.pid), ...ports }, 'workers serving');
          resolveStart(ports);
        }
        return;
      case 'watch':
        watches.follow(worker, message.file);
        return;
      case 'unwatch':
        watches.unfollow(worker, message.file);
        return;
      case 'scrape':
        scrape().then(
          (answer) => tellWorker(worker, { ...answer, id: message.id }),
          (err: unknown) => {
            logger.warn({ err }, 'metrics of the worker group unavailable');
            tellWorker(worker, { gatehouse: 'scraped', id: message.id, error: String(err) });
          },
        );
        return;
      case 'collected':
        collects.get(message.id)?.done(message.metrics, message.error);
    }
  };

  let exitCode = 0;
  let failed = false;
  cluster.on('exit', (worker, code, signal) => {
    // A worker still starting dies of the forwarded signal itself; one that served must have drained and exited 0.
    if (stopping && serving.has(worker) && code !== 0) exitCode = 1;
    serving.delete(worker);
    live.delete(worker);
    watches.unfollow(worker);
    for (const c of collects.values()) if (c.worker === worker) c.done(undefined, 'exited');
    metrics.setRunning(alive().length);
    if (failed) return;
    if (stopping) {
      logger.info({ worker: worker.id, pid: worker.process.pid, code, signal }, 'worker stopped');
      if (alive().length === 0) finish();
      return;
    }
    if (!started) {
      failStart(new Error(`worker ${worker.id} exited before serving (code ${String(code)}, signal ${String(signal)})`));
      return;
    }
    const delay = backoff.crashed();
    logger.error(
      { worker: worker.id, pid: worker.process.pid, code, signal, restart_in_ms: delay },
      'worker exited unexpectedly; restarting it',
    );
    setTimeout(() => {
      if (stopping) return;
      metrics.countRestart();
      fork();
    }, delay).unref();
  });

  const finish = () => {
    watches.stop();
    logger.info({ code: exitCode }, 'all workers stopped');
    exitAfterFlush(logger, exitCode);
  };

  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: killing the workers without finishing in-flight calls');
      for (const w of alive()) w.process.kill('SIGKILL');
      exitAfterFlush(logger, 1);
      return;
    }
    stopping = true;
    watches.stop();
    logger.info({ signal, workers: alive().length }, 'shutting down: every worker finishes its in-flight calls');
    for (const w of alive()) w.process.kill(signal);
    if (alive().length === 0) finish();
    const deadline = config.server.shutdown_delay + config.server.shutdown_grace + EXIT_MARGIN_MS;
    setTimeout(() => {
      const left = alive();
      logger.error({ workers: left.map((w) => w.process.pid) }, 'workers still running after the grace; killing them');
      for (const w of left) w.process.kill('SIGKILL');
      exitAfterFlush(logger, 1);
    }, deadline).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.on('SIGHUP', () => {
    // Only to workers that serve: one still starting would die of it, and reads the file as it starts anyway.
    logger.info({ workers: serving.size }, 'SIGHUP: every worker reloads');
    for (const w of serving) w.process.kill('SIGHUP');
  });

  let resolveStart: (p: { grpc: number; http: number }) => void = () => {};
  const whenStarted = new Promise<{ grpc: number; http: number }>((resolve, reject) => {
    resolveStart = resolve;
    failStart = (err) => {
      if (failed || stopping) return;
      failed = true;
      watches.stop();
      for (const w of alive()) w.process.kill('SIGKILL');
      reject(err);
    };
  });
  logger.info({ workers: config.server.workers }, 'starting workers');
  for (let i = 0; i < config.server.workers; i++) fork();
  return whenStarted;
}
