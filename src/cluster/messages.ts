/**
 * What the primary and its workers say to each other over the cluster IPC channel (server.workers > 1). Every
 * message carries `gatehouse` (its kind), so messages of Node's own cluster protocol are told apart.
 */
import type { Worker } from 'node:cluster';
import type { MetricsJson } from '../telemetry/group-metrics.js';

export type WorkerMessage =
  /** Listening and counting: from now on the primary counts this worker in /metrics. */
  | { readonly gatehouse: 'ready'; readonly grpc: number; readonly http: number }
  /** Tell me when this file changes (one watch per file in the primary, however many workers ask). */
  | { readonly gatehouse: 'watch'; readonly file: string }
  | { readonly gatehouse: 'unwatch'; readonly file: string }
  /** A /metrics request reached this worker: the primary answers with the whole group's. */
  | { readonly gatehouse: 'scrape'; readonly id: number }
  /** The answer to a `collect`. */
  | { readonly gatehouse: 'collected'; readonly id: number; readonly metrics?: MetricsJson; readonly error?: string };

export type PrimaryMessage =
  | { readonly gatehouse: 'changed'; readonly file: string }
  /** Send me your metrics (for a scrape some worker received). */
  | { readonly gatehouse: 'collect'; readonly id: number }
  | { readonly gatehouse: 'scraped'; readonly id: number; readonly contentType?: string; readonly body?: string; readonly error?: string };

/** A message of ours (anything else on the channel is Node's or a library's). */
export function isOurs<T extends { gatehouse: string }>(message: unknown): message is T {
  return typeof message === 'object' && message !== null && typeof (message as { gatehouse?: unknown }).gatehouse === 'string';
}

/**
 * Sends to a worker. One that is exiting cannot be told (the send fails, and its exit is handled where the
 * primary learns of it), so a failed send is dropped instead of an `error` event ending the primary.
 */
export function tellWorker(worker: Worker, message: PrimaryMessage): void {
  if (worker.isConnected()) worker.send(message, dropSendError);
}

/** Sends to the primary; once the channel is closed this worker is ending (Node's cluster exits it). */
export function tellPrimary(message: WorkerMessage): void {
  if (process.connected) process.send!(message, undefined, undefined, dropSendError);
}

function dropSendError(): void {}
