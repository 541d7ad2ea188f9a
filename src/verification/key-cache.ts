/**
 * Signing keys of every issuer in one bounded LRU. Per key source: one fetch at a time shared by every
 * waiting call (single flight), a background refresh, at most one refetch per cooldown for unknown key ids
 * and for signatures that fail on a cached key (a key replaced under its name), and the last good keys kept
 * serving while the provider is down, up to `maxStaleMs`. Keys are told apart by their material (thumbprint).
 */
import { LRUCache } from 'lru-cache';
import type { Clock } from './clock.js';
import { TokenError } from './errors.js';
import type { Fetch } from './fetch-json.js';
import type { IssuerMetadata, KeySource } from './issuers/issuer.js';
import { issuerFromDiscovery, missError, newSourceState, sameSource, type SourceState, type SourceStatus } from './key-source-state.js';
import { bindingsLost, keyIdentity } from './key-thumbprint.js';
import { settlesWithin } from './settles-within.js';
import { loadKeySet } from './load-key-set.js';
import type { VerificationObserver } from './observer.js';
import type { SigningKey } from './signing-key.js';

export type { SourceStatus };

const MAX_TIMER_MS = 2 ** 31 - 1;
/** How long a call waits for a refetch triggered by an unknown kid (or a failed signature) while other keys are held. */
const UNKNOWN_KID_WAIT_MS = 500;

export interface KeyCacheOptions {
  readonly refreshIntervalMs: number;
  readonly unknownKidCooldownMs: number;
  readonly maxStaleMs: number;
  readonly maxKeys: number;
  readonly fetchTimeoutMs: number;
  readonly clock: Clock;
  readonly fetch: Fetch;
  readonly observer: VerificationObserver;
}

/** What a token header says about its key. */
export interface KeyHint {
  readonly kid: string | undefined;
  readonly x5t: string | undefined;
}

export class KeyCache {
  readonly #options: KeyCacheOptions;
  readonly #states = new Map<string, SourceState>();
  readonly #keys: LRUCache<string, SigningKey>;
  #running = false;
  #generation = 0;

  constructor(sources: readonly KeySource[], options: KeyCacheOptions) {
    this.#options = options;
    // A key takes up to two entries (kid and x5t) and a source one more (`only`): sized so that maxKeys keys fit.
    this.#keys = new LRUCache({ max: 2 * options.maxKeys + sources.length });
    for (const source of sources) {
      this.#states.set(source.id, newSourceState(source));
    }
  }

  /** Prefetches every source and keeps them refreshed in the background. Never throws. */
  start(): Promise<void> {
    this.#running = true;
    return Promise.all([...this.#states.values()].map((s) => this.#refreshAndSchedule(s))).then(() => {});
  }

  stop(): void {
    this.#running = false;
    for (const state of this.#states.values()) clearTimeout(state.timer);
  }

  /** The source's metadata from its last successful discovery, if any. */
  metadata(sourceId: string): IssuerMetadata | undefined {
    return this.#states.get(sourceId)?.metadata;
  }

  status(): SourceStatus[] {
    return [...this.#states.values()].map((s) => ({
      id: s.source.id,
      issuerId: s.source.issuerId,
      usable: this.#usable(s),
      loading: s.lastAttemptAt === undefined || (s.lastSuccessAt === undefined && s.pending !== undefined && s.consecutiveFailures === 0),
      stale: this.#stale(s),
      lastSuccessAt: s.lastSuccessAt,
      lastError: s.lastError,
    }));
  }

  /**
   * Loads every source whose issuer only its discovery tells and that has never loaded, at most once per
   * cooldown each (used to route a token whose issuer no known source names). Resolves when those have finished.
   */
  async loadMissing(): Promise<void> {
    const waits: Promise<boolean>[] = [];
    for (const state of this.#states.values()) {
      if (!issuerFromDiscovery(state) || (state.metadata && state.lastSuccessAt !== undefined)) continue;
      if (state.pending) waits.push(state.pending);
      else if (this.#refetchDue(state)) waits.push(this.refresh(state.source.id));
    }
    await Promise.all(waits);
  }

  /** True when a source whose issuer only discovery tells has never loaded: an unknown `iss` might be its. */
  hasUnloadedSources(): boolean {
    for (const state of this.#states.values()) if (issuerFromDiscovery(state) && !state.metadata) return true;
    return false;
  }

  /** The key a token names when it is held and usable now, counted as a hit; undefined (nothing counted) otherwise. */
  heldKey(sourceId: string, hint: KeyHint): SigningKey | undefined {
    const state = this.#states.get(sourceId);
    const key = state && this.#usable(state) ? this.#lookup(sourceId, hint) : undefined;
    if (key) this.#options.observer.keyLookup(state!.source.issuerId, 'hit');
    return key;
  }

  /** The key a token names, held or after one refetch; else TokenError KEY_NOT_FOUND, or KEYS_UNAVAILABLE (no usable key). */
  async getKey(sourceId: string, hint: KeyHint): Promise<SigningKey> {
    const held = this.heldKey(sourceId, hint);
    if (held) return held;
    const state = this.#states.get(sourceId);
    if (!state) throw new TokenError('KEYS_UNAVAILABLE', 'no key source for this issuer');
    const { observer } = this.#options;
    observer.keyLookup(state.source.issuerId, 'miss');
    if (!state.pending && !this.#refetchDue(state)) {
      observer.refetchSuppressed(state.source.issuerId);
      throw missError(state, this.#usable(state), hint);
    }
    const refreshed = this.refresh(sourceId);
    if (this.#usable(state)) {
      // Keys are held and this one is merely unknown (a rotation, or a forged kid): wait for the refetch only
      // briefly, so a slow provider cannot hold every such call (and its caller's deadline) hostage.
      if (!(await settlesWithin(refreshed, UNKNOWN_KID_WAIT_MS))) {
        throw new TokenError(
          'KEYS_UNAVAILABLE',
          `the signing keys of issuer "${state.source.issuerId}" are being refetched; retry shortly`,
        );
      }
    } else {
      await refreshed;
    }
    const key = this.#usable(state) ? this.#lookup(sourceId, hint) : undefined;
    if (key) return key;
    throw missError(state, this.#usable(state), hint);
  }

  /**
   * A signature that fails on a cached key may mean the provider replaced the key under the same name (kid,
   * x5t, or its one kid-less key). Refetches under the unknown-kid cooldown (single flight, waiting as briefly)
   * and returns the key now published under that name if its material differs from `rejected`; undefined when
   * no refetch is due, it did not finish in time, or the key is unchanged.
   */
  async replacementKey(sourceId: string, hint: KeyHint, rejected: SigningKey): Promise<SigningKey | undefined> {
    const state = this.#states.get(sourceId);
    if (!state) return undefined;
    if (!state.pending && !this.#refetchDue(state)) {
      this.#options.observer.refetchSuppressed(state.source.issuerId);
      return undefined;
    }
    if (!(await settlesWithin(this.refresh(sourceId), UNKNOWN_KID_WAIT_MS))) return undefined;
    const key = this.#usable(state) ? this.#lookup(sourceId, hint) : undefined;
    return key && keyIdentity(key) !== keyIdentity(rejected) ? key : undefined;
  }

  /**
   * Takes over the key state of `previous` (a cache being replaced by a config reload) for every source whose
   * definition is unchanged, so a reload during a provider outage keeps the last good keys.
   */
  adopt(previous: KeyCache): void {
    for (const [id, state] of this.#states) {
      const old = previous.#states.get(id);
      if (!old || old.lastSuccessAt === undefined || !sameSource(old.source, state.source)) continue;
      state.metadata = old.metadata;
      state.lastSuccessAt = old.lastSuccessAt;
      state.lastAttemptAt = old.lastAttemptAt;
      state.lastError = old.lastError;
      state.consecutiveFailures = old.consecutiveFailures;
      const keys = [...old.cacheKeys.keys()].map((k) => previous.#keys.peek(k)).filter((k): k is SigningKey => k !== undefined);
      this.#install(state, [...new Set(keys)]);
    }
  }

  /** Fetches the source's metadata and keys now, or joins the fetch in flight. Resolves to success. */
  refresh(sourceId: string): Promise<boolean> {
    const state = this.#states.get(sourceId);
    if (!state) return Promise.resolve(false);
    state.pending ??= this.#load(state).finally(() => {
      state.pending = undefined;
    });
    return state.pending;
  }

  /**
   * No fetch in flight may be joined and the last attempt is older than the cooldown. A last attempt in the future
   * means the clock was stepped back: due, or a rotation would go unseen for as long as the step.
   */
  #refetchDue(state: SourceState): boolean {
    if (state.lastAttemptAt === undefined) return true;
    const elapsed = this.#options.clock() - state.lastAttemptAt;
    return elapsed < 0 || elapsed >= this.#options.unknownKidCooldownMs;
  }

  #lookup(sourceId: string, hint: KeyHint): SigningKey | undefined {
    if (hint.kid !== undefined) {
      const key = this.#keys.get(`${sourceId}\0kid\0${hint.kid}`);
      if (key) return key;
    }
    if (hint.x5t !== undefined) return this.#keys.get(`${sourceId}\0x5t\0${hint.x5t}`);
    if (hint.kid === undefined) return this.#keys.get(`${sourceId}\0only`);
    return undefined;
  }

  #usable(state: SourceState): boolean {
    return state.lastSuccessAt !== undefined && this.#options.clock() - state.lastSuccessAt <= this.#options.maxStaleMs;
  }

  #stale(state: SourceState): boolean {
    if (state.lastSuccessAt === undefined) return false;
    return state.consecutiveFailures > 0 || this.#options.clock() - state.lastSuccessAt > this.#options.refreshIntervalMs;
  }

  async #load(state: SourceState): Promise<boolean> {
    const { clock, fetch, fetchTimeoutMs, observer } = this.#options;
    const started = performance.now();
    state.lastAttemptAt = clock();
    try {
      const { metadata, keys } = await loadKeySet(state.source, { fetch, fetchTimeoutMs, maxKeys: this.#options.maxKeys });
      this.#install(state, keys);
      state.metadata = metadata;
      state.lastSuccessAt = clock();
      state.lastError = undefined;
      state.consecutiveFailures = 0;
      observer.keyFetch(state.source.issuerId, 'success', (performance.now() - started) / 1000);
      return true;
    } catch (err) {
      state.lastError = err instanceof Error ? err.message : String(err);
      state.consecutiveFailures += 1;
      observer.keyFetch(state.source.issuerId, 'failure', (performance.now() - started) / 1000, state.lastError);
      return false;
    } finally {
      observer.keySetState(state.source.issuerId, this.#issuerState(state.source.issuerId));
    }
  }

  /** An issuer's key sets together (an Entra issuer has one per token version): keys, staleness, oldest fetch. */
  #issuerState(issuerId: string): { keys: number; stale: boolean; fetchedAt: number } {
    let keys = 0;
    let stale = false;
    let fetchedAt = Infinity;
    for (const s of this.#states.values()) {
      if (s.source.issuerId !== issuerId) continue;
      keys += s.keyCount;
      stale ||= this.#stale(s) || (!this.#usable(s) && s.lastSuccessAt !== undefined);
      fetchedAt = Math.min(fetchedAt, s.lastSuccessAt ?? 0);
    }
    return { keys, stale, fetchedAt: Number.isFinite(fetchedAt) ? fetchedAt : 0 };
  }

  /**
   * Grows whenever a provider stops publishing a key it published before, or publishes other key material
   * under a name (kid, x5t, its one kid-less key) a key had before. Whoever caches the result of a
   * verification (decisions, principals) drops it then: a removed or replaced key may be a compromised one.
   */
  get generation(): number {
    return this.#generation;
  }

  #install(state: SourceState, keys: SigningKey[]): void {
    const previous = state.cacheKeys;
    for (const cacheKey of previous.keys()) this.#keys.delete(cacheKey);
    const id = state.source.id;
    const cacheKeys = new Map<string, string>();
    const put = (cacheKey: string, key: SigningKey) => {
      this.#keys.set(cacheKey, key);
      cacheKeys.set(cacheKey, keyIdentity(key));
    };
    for (const key of keys) {
      if (key.kid !== undefined) put(`${id}\0kid\0${key.kid}`, key);
      if (key.x5t !== undefined) put(`${id}\0x5t\0${key.x5t}`, key);
    }
    // A token without kid or x5t is acceptable only when the issuer publishes exactly one key.
    if (keys.length === 1) put(`${id}\0only`, keys[0]!);
    state.cacheKeys = cacheKeys;
    state.keyCount = keys.length;
    // By material: a key replaced under its kid counts as removed, though every name is still there.
    if (bindingsLost(previous, cacheKeys)) this.#generation += 1;
  }

  async #refreshAndSchedule(state: SourceState): Promise<void> {
    const ok = await this.refresh(state.source.id);
    if (!this.#running) return;
    const { refreshIntervalMs, unknownKidCooldownMs } = this.#options;
    // After a failure retry sooner, backing off: cooldown, 2×, 4×… up to the refresh interval.
    const delay = ok
      ? refreshIntervalMs
      : Math.min(refreshIntervalMs, Math.max(1000, unknownKidCooldownMs) * 2 ** Math.min(state.consecutiveFailures - 1, 10));
    clearTimeout(state.timer);
    // setTimeout fires at once for delays past 2^31-1 ms (~24.8 days): clamp, or a long interval becomes a fetch loop.
    state.timer = setTimeout(() => void this.#refreshAndSchedule(state), Math.min(delay, MAX_TIMER_MS));
    state.timer.unref();
  }
}
