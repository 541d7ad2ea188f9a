/**
 * The primary's file watches (server.workers > 1): one watch per file, however many workers follow it, and every
 * follower told of a change. Each worker then reads the file and reloads, and logs its own outcome.
 */
import type { Worker } from 'node:cluster';
import { watchFile } from '../config/watch-file.js';
import { tellWorker, type PrimaryMessage } from './messages.js';

export class FileWatches {
  readonly #watches = new Map<string, { followers: Set<Worker>; stop: () => void }>();

  constructor(private readonly cannotWatch: (file: string, dir: string, err: unknown) => void) {}

  follow(worker: Worker, file: string): void {
    let watch = this.#watches.get(file);
    if (!watch) {
      const followers = new Set<Worker>();
      const changed: PrimaryMessage = { gatehouse: 'changed', file };
      const stop = watchFile(
        file,
        () => {
          for (const follower of followers) tellWorker(follower, changed);
        },
        (dir, err) => this.cannotWatch(file, dir, err),
      );
      this.#watches.set(file, (watch = { followers, stop }));
    }
    watch.followers.add(worker);
  }

  unfollow(worker: Worker, file?: string): void {
    for (const [watched, watch] of this.#watches) {
      if (file !== undefined && watched !== file) continue;
      watch.followers.delete(worker);
      if (watch.followers.size > 0) continue;
      watch.stop();
      this.#watches.delete(watched);
    }
  }

  stop(): void {
    for (const watch of this.#watches.values()) watch.stop();
    this.#watches.clear();
  }
}
