/**
 * A listener's TLS material, re-read when its files change: a Kubernetes Secret rotation (the mounted files are
 * symlinks through `..data`, swapped at once) or SIGHUP then needs no restart. A new set that does not check out
 * (unreadable, not PEM, a key that does not match, expired) keeps the one in force; either outcome is reported.
 * Connections already open keep the certificate they shook hands with; new connections get the new one.
 */
import { createHash } from 'node:crypto';
import { readTlsMaterial, type TlsBytes, type TlsFiles, type TlsMaterial, type TlsProblem } from '../config/tls-files.js';
import { watchFile } from '../config/watch-file.js';

/** How long after one path's (already debounced) change the others' are taken as the same rotation. */
const COALESCE_MS = 100;

export type TlsListener = 'grpc' | 'http';

export interface TlsReloadEvents {
  /** New material is in force (`trigger`: what made gatehouse look). */
  reloaded(listener: TlsListener, material: TlsMaterial, trigger: string): void;
  /** New material was refused; the running material stays in force. */
  refused(listener: TlsListener, problems: readonly TlsProblem[], trigger: string): void;
  /** A directory could not be watched: only SIGHUP reloads from it. */
  cannotWatch(listener: TlsListener, dir: string, err: unknown): void;
}

export class TlsReloader {
  #current: TlsMaterial;
  readonly #subscribers = new Set<(material: TlsMaterial) => void>();
  #unwatch: (() => void) | undefined;
  /** What the last refused read held, so that the same bad files woken again are reported once. */
  #refused: string | undefined;

  /** Reads the files now; they were checked when the config was validated, so a failure here is a race: it throws. */
  constructor(
    readonly listener: TlsListener,
    readonly files: TlsFiles,
    private readonly events: TlsReloadEvents,
  ) {
    const read = readTlsMaterial(files);
    if ('problems' in read)
      throw new Error(`server.${listener === 'grpc' ? 'tls' : 'http_tls'}: ${read.problems.map((p) => p.join(': ')).join('; ')}`);
    this.#current = read.material;
  }

  get current(): TlsMaterial {
    return this.#current;
  }

  /** Calls `apply` with every new material put in force (not with the current one). */
  subscribe(apply: (material: TlsMaterial) => void): () => void {
    this.#subscribers.add(apply);
    return () => this.#subscribers.delete(apply);
  }

  /**
   * Re-reads the files. Unchanged bytes do nothing (one rotation wakes every watched directory), and so do the
   * bad bytes last refused when a file event comes again; a set that checks out is applied and reported, one that
   * does not is reported and ignored.
   */
  reload(trigger: string): 'unchanged' | 'reloaded' | 'refused' {
    const read = readTlsMaterial(this.files);
    if ('problems' in read) {
      // Mid-rotation a reader may see a new certificate beside the old key; the next event reads both new.
      const seen = fingerprint(read.bytes);
      if (seen === this.#refused && trigger === 'file change') return 'unchanged';
      this.#refused = seen;
      this.events.refused(this.listener, read.problems, trigger);
      return 'refused';
    }
    this.#refused = undefined;
    const next = read.material;
    const now = this.#current;
    if (next.cert.equals(now.cert) && next.key.equals(now.key) && sameBytes(next.ca, now.ca)) return 'unchanged';
    this.#current = next;
    for (const apply of this.#subscribers) apply(next);
    this.events.reloaded(this.listener, next, trigger);
    return 'reloaded';
  }

  /** Watches the directories of the certificate, key and CA (and their symlinks' targets) until `stop`. */
  watch(): void {
    if (this.#unwatch) return;
    const paths = new Set([this.files.cert, this.files.key, ...(this.files.client_ca ? [this.files.client_ca] : [])]);
    // The certificate and key usually share a directory, so one rotation wakes each path's watch: read once.
    let pending: NodeJS.Timeout | undefined;
    const changed = () => {
      pending ??= setTimeout(() => {
        pending = undefined;
        this.reload('file change');
      }, COALESCE_MS);
    };
    const stops = [...paths].map((path) => watchFile(path, changed, (dir, err) => this.events.cannotWatch(this.listener, dir, err)));
    this.#unwatch = () => {
      clearTimeout(pending);
      stops.forEach((stop) => stop());
    };
  }

  stop(): void {
    this.#unwatch?.();
    this.#unwatch = undefined;
    this.#subscribers.clear();
  }
}

function fingerprint(bytes: TlsBytes): string {
  const hash = createHash('sha256');
  for (const part of [bytes.cert, bytes.key, bytes.client_ca]) hash.update(part ? createHash('sha256').update(part).digest('hex') : '-');
  return hash.digest('hex');
}

function sameBytes(a: Buffer | undefined, b: Buffer | undefined): boolean {
  return a === undefined || b === undefined ? a === b : a.equals(b);
}
