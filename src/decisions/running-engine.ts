/**
 * The running engine: the one owner of which Authorizer serves calls now, and of every change to it. A reload
 * validates (loads and checks the file, or takes a validated config), builds what the change needs, swaps it in
 * and counts its outcome, once, in one place; reloads run one at a time, in order, so a rules-only reload never
 * lands on an engine about to be replaced. Transport-free and telemetry-free: the counting and the issuer list go
 * out through hooks.
 */
import { isDeepStrictEqual } from 'node:util';
import { loadConfigFile } from '../config/load.js';
import type { Config } from '../config/schema.js';
import type { VerifierDeps } from '../verification/verifier.js';
import type { Authorizer } from './authorizer.js';
import { compilePolicy, createAuthorizer } from './create-authorizer.js';
import { RevocationSource, type RevocationLoadOutcome } from './revocation-source.js';

export type ReloadOutcome = 'success' | 'failure';

export interface RunningEngineHooks {
  /** Every reload's outcome, reported here exactly once (a file that does not validate is a failure too). */
  readonly reloaded: (outcome: ReloadOutcome) => void;
  /** A reload with new issuers is loading their keys: these ids (old and new) may now be seen. */
  readonly issuersLoading?: (ids: ReadonlySet<string>) => void;
  /** These issuers serve now. */
  readonly issuersServing?: (ids: ReadonlySet<string>) => void;
  /** Every load of the revocation file (at start, on a change of it, on a reload naming another one). */
  readonly revocationsLoaded?: (outcome: RevocationLoadOutcome, entries: number) => void;
}

export class RunningEngine {
  readonly #deps: VerifierDeps;
  readonly #hooks: RunningEngineHooks;
  #current: Authorizer;
  #running: Config;
  #queue: Promise<unknown> = Promise.resolve();
  readonly #revocations: RevocationSource;

  /**
   * Builds the engine for `config`; its key cache is not started (see {@link authorizer}). Loads the revocation
   * file; one that cannot be loaded throws (ConfigError naming `revocations.file`).
   */
  constructor(config: Config, deps: VerifierDeps, hooks: RunningEngineHooks) {
    this.#deps = deps;
    this.#hooks = hooks;
    this.#running = config;
    this.#revocations = new RevocationSource({ loaded: hooks.revocationsLoaded });
    this.#revocations.use(config.revocations.file);
    this.#current = createAuthorizer(config, deps, undefined, this.#revocations);
  }

  /** The revocation list in force and the file it came from (read it per call, a load swaps it). */
  get revocations(): RevocationSource {
    return this.#revocations;
  }

  /**
   * Re-reads the revocation file (`onlyIfChanged`: unless its text is the same); a file that does not load keeps
   * the list in force and rejects. Queued with config reloads, so a reload naming another file is not undone.
   */
  reloadRevocations(onlyIfChanged: boolean): Promise<number> {
    const run = this.#queue.then(() => this.#revocations.reload(onlyIfChanged).size);
    this.#queue = run.catch(() => {});
    return run;
  }

  /** The engine serving calls now; read it per call, a reload may swap it. */
  get authorizer(): Authorizer {
    return this.#current;
  }

  /** The config in force now (the last one applied). */
  get config(): Config {
    return this.#running;
  }

  /** Applies a validated config; on failure the running engine stays and the promise rejects. */
  reload(next: Config): Promise<Config> {
    return this.#enqueue(() => next);
  }

  /** Loads and validates `file`, then applies it; a file that does not validate changes nothing and rejects. */
  reloadFile(file: string): Promise<Config> {
    return this.#enqueue(() => loadConfigFile(file));
  }

  /** Stops the serving engine's key refreshes (shutdown). */
  stop(): void {
    this.#current.verification.keyCache.stop();
  }

  #enqueue(validate: () => Config): Promise<Config> {
    const run = this.#queue
      .then(async () => {
        const next = validate();
        await this.#apply(next);
        return next;
      })
      .then(
        (next) => {
          this.#hooks.reloaded('success');
          return next;
        },
        (err: unknown) => {
          this.#hooks.reloaded('failure');
          throw err;
        },
      );
    this.#queue = run.catch(() => {});
    return run;
  }

  async #apply(next: Config): Promise<void> {
    const running = this.#running;
    const current = this.#current;
    // Another revocation file: loaded first, so one that does not load fails the reload, and put in force last.
    const changedRevocations = next.revocations.file !== running.revocations.file;
    const commitRevocations = changedRevocations ? this.#revocations.prepare(next.revocations.file) : undefined;
    if (!isDeepStrictEqual([next.issuers, next.keys], [running.issuers, running.keys])) {
      // New issuers or key settings: a new key cache, which keeps the last good keys of every unchanged issuer
      // (a reload during a provider outage must not drop them).
      const replacement = createAuthorizer(next, this.#deps, undefined, this.#revocations);
      replacement.verification.keyCache.adopt(current.verification.keyCache);
      const nextIds = new Set(next.issuers.map((i) => i.id));
      this.#hooks.issuersLoading?.(new Set([...running.issuers.map((i) => i.id), ...nextIds]));
      await replacement.verification.keyCache.start();
      this.#current = replacement;
      current.verification.keyCache.stop();
      this.#hooks.issuersServing?.(nextIds);
    } else if (!isDeepStrictEqual([next.tokens, next.decisions], [running.tokens, running.decisions])) {
      // Token checks or decision-cache limits: a new engine over the same key cache.
      const verification = { ...current.verification, clockSkewMs: next.tokens.clock_skew, maxTokenBytes: next.tokens.max_bytes };
      this.#current = createAuthorizer(next, this.#deps, verification, this.#revocations);
    } else {
      current.setPolicy(compilePolicy(next));
    }
    commitRevocations?.();
    this.#running = next;
  }
}
