/**
 * A worker's side of the cluster channel (server.workers > 1): the primary watches the files (one watch per file
 * for the whole group, so N workers do not race on N watches), answers /metrics for the whole group, and learns
 * when this worker is serving.
 */
import type { Registry } from 'prom-client';
import { metricsJson } from '../telemetry/group-metrics.js';
import { isOurs, tellPrimary, type PrimaryMessage } from './messages.js';

/** A /metrics request waits at most this long for the primary (which itself waits on every worker). */
const SCRAPE_TIMEOUT_MS = 10_000;

export interface PrimaryLink {
  /** Like config/watch-file.ts `watchFile`, but the primary watches; returns the function that stops. */
  watch(file: string, onChange: () => void): () => void;
  /** The whole group's /metrics, from the primary. */
  groupMetrics(): Promise<{ contentType: string; body: string }>;
  /** This worker listens and counts into `registry`: the primary may now count it in /metrics. */
  serving(registry: Registry, ports: { grpc: number; http: number }): void;
}

/** Links this worker (cluster.isWorker) to its primary. */
export function linkToPrimary(): PrimaryLink {
  const send = tellPrimary;
  const listeners = new Map<string, Set<() => void>>();
  const scrapes = new Map<number, { resolve: (v: { contentType: string; body: string }) => void; reject: (e: Error) => void }>();
  let nextScrape = 0;
  let registry: Registry | undefined;

  process.on('message', (message: unknown) => {
    if (!isOurs<PrimaryMessage>(message)) return;
    switch (message.gatehouse) {
      case 'changed':
        for (const onChange of listeners.get(message.file) ?? []) onChange();
        return;
      case 'collect':
        if (!registry) send({ gatehouse: 'collected', id: message.id, error: 'not serving yet' });
        else
          metricsJson(registry).then(
            (metrics) => send({ gatehouse: 'collected', id: message.id, metrics }),
            (err: unknown) => send({ gatehouse: 'collected', id: message.id, error: String(err) }),
          );
        return;
      case 'scraped': {
        const waiting = scrapes.get(message.id);
        scrapes.delete(message.id);
        if (message.body !== undefined && message.contentType !== undefined)
          waiting?.resolve({ contentType: message.contentType, body: message.body });
        else waiting?.reject(new Error(message.error ?? 'no metrics'));
      }
    }
  });

  return {
    watch(file, onChange) {
      let set = listeners.get(file);
      if (!set) {
        listeners.set(file, (set = new Set()));
        send({ gatehouse: 'watch', file });
      }
      set.add(onChange);
      return () => {
        set.delete(onChange);
        if (set.size > 0 || listeners.get(file) !== set) return;
        listeners.delete(file);
        send({ gatehouse: 'unwatch', file });
      };
    },
    groupMetrics() {
      const id = nextScrape++;
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          scrapes.delete(id);
          reject(new Error('the primary did not answer'));
        }, SCRAPE_TIMEOUT_MS);
        scrapes.set(id, {
          resolve: (v) => (clearTimeout(timer), resolve(v)),
          reject: (e) => (clearTimeout(timer), reject(e)),
        });
        send({ gatehouse: 'scrape', id });
      });
    },
    serving(served, ports) {
      registry = served;
      send({ gatehouse: 'ready', ...ports });
    },
  };
}
