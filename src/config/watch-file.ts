/**
 * Watching a file that editors and Kubernetes replace rather than write: used for the config file and the
 * revocation file alike. Side effects only when called (main.ts owns the process's watches).
 */
import { realpathSync, watch, type FSWatcher } from 'node:fs';
import { dirname, resolve } from 'node:path';

/** Editors and Kubernetes change a file in several steps; wait for the last one. */
const DEBOUNCE_MS = 200;

/**
 * Watches the file's directory, not the file: an editor that writes a new file and renames it over the old
 * one, or a ConfigMap update (a `..data` symlink swap), leaves a watch on the old inode deaf. When the file
 * is a symlink, the directory of its target is watched too (and re-resolved after each change). Calls
 * `onChange` once per burst of events (debounced); `cannotWatch` when a directory cannot be watched.
 * Returns the function that stops watching.
 */
export function watchFile(file: string, onChange: () => void, cannotWatch: (dir: string, err: unknown) => void): () => void {
  const watchers = new Map<string, FSWatcher>();
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  const changed = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      if (closed) return;
      sync();
      onChange();
    }, DEBOUNCE_MS);
  };
  const sync = () => {
    const wanted = new Set([dirname(resolve(file))]);
    try {
      wanted.add(dirname(realpathSync(file)));
    } catch {
      // The file is gone for now (mid-replace); its own directory is still watched.
    }
    for (const [dir, watcher] of watchers) {
      if (!wanted.has(dir)) {
        watcher.close();
        watchers.delete(dir);
      }
    }
    for (const dir of wanted) {
      if (watchers.has(dir)) continue;
      try {
        const watcher = watch(dir, { persistent: false }, changed);
        watcher.on('error', () => {
          watcher.close();
          watchers.delete(dir);
        });
        watchers.set(dir, watcher);
      } catch (err) {
        cannotWatch(dir, err);
      }
    }
  };
  sync();
  return () => {
    closed = true;
    clearTimeout(timer);
    for (const watcher of watchers.values()) watcher.close();
    watchers.clear();
  };
}
