/**
 * A bounded cache of decisions per (token, action), so a busy caller's repeated calls skip
 * verification and rule evaluation. An entry never outlives its token: its expiry is the earlier
 * of the token's `exp` and now + maxTtl.
 *
 * Keys hash the WHOLE token. Hashing only part of it (say the signature) would let a token with
 * a valid signature and an altered payload hit a decision made for the original. The cache holds
 * hashes, never tokens.
 */
import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { systemClock, type Clock } from '../verification/clock.js';

/** The sha256 of the whole token (base64url). Compute once per token, then {@link keyFor} per action. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('base64url');
}

/** The cache key for a token (already hashed with {@link hashToken}) and an action. */
export function keyFor(tokenHash: string, action: string): string {
  // The hash has a fixed length and no "\n", so no (hash, action) pair can collide with another.
  return `${tokenHash}\n${action}`;
}

export interface DecisionCacheOptions {
  /** At most this many entries; 0 disables the cache. */
  readonly maxEntries: number;
  /** At most about this many bytes, as the sizes given to `set` add up; absent: no byte bound. */
  readonly maxBytes?: number;
  /** No entry lives longer than this, in milliseconds; 0 disables the cache. */
  readonly maxTtlMs: number;
  /** Milliseconds since the epoch; tests pass a fake one. */
  readonly clock?: Clock;
}

interface Entry<V> {
  readonly value: V;
  /** Milliseconds since the epoch; the entry is gone from this instant on. */
  readonly expiresAt: number;
}

/**
 * Cached values of type `V` per (token, action), least recently used evicted first.
 *
 * Expiry is checked here against the injected clock rather than by lru-cache's own TTL: lru-cache
 * debounces its clock with real timers and treats a start time of 0 as "no TTL", both of which
 * would make a fake clock lie. Expired entries are dropped when read, or evicted by size.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- any non-nullish value (lru-cache requires it)
export class DecisionCache<V extends {}> {
  readonly #lru: LRUCache<string, Entry<V>> | undefined;
  readonly #maxTtlMs: number;
  readonly #clock: Clock;
  readonly #sized: boolean;

  constructor(options: DecisionCacheOptions) {
    const { maxEntries, maxTtlMs, maxBytes, clock = systemClock } = options;
    if (!Number.isInteger(maxEntries) || maxEntries < 0) {
      throw new RangeError(`maxEntries must be an integer >= 0 (0 disables the cache), got ${maxEntries}`);
    }
    if (!Number.isFinite(maxTtlMs) || maxTtlMs < 0) {
      throw new RangeError(`maxTtlMs must be a finite number >= 0 (0 disables the cache), got ${maxTtlMs}`);
    }
    this.#maxTtlMs = maxTtlMs;
    this.#clock = clock;
    const enabled = maxEntries > 0 && maxTtlMs > 0 && maxBytes !== 0;
    // Entries carry a principal with every claim: a count alone would not bound memory (groups can be large).
    this.#lru = enabled ? new LRUCache({ max: maxEntries, ...(maxBytes ? { maxSize: maxBytes } : {}) }) : undefined;
    this.#sized = maxBytes !== undefined && maxBytes > 0;
  }

  /** Entries held, including expired ones not yet read or evicted. */
  get size(): number {
    return this.#lru?.size ?? 0;
  }

  /** The cached value for `token` and `action`, or undefined when absent or expired. */
  get(token: string, action: string): V | undefined {
    return this.#lru ? this.getByKey(keyFor(hashToken(token), action)) : undefined;
  }

  /**
   * Caches `value` for `token` and `action` until `expiresAtMs` (the token's `exp`, in ms) or
   * now + maxTtl, whichever comes first. Nothing is cached for a token that has already expired.
   */
  set(token: string, action: string, value: V, expiresAtMs: number): void {
    if (this.#lru) this.setByKey(keyFor(hashToken(token), action), value, expiresAtMs);
  }

  /** {@link get} with a key from {@link keyFor}, for callers that hash a token once for many actions. */
  getByKey(key: string): V | undefined {
    const entry = this.#lru?.get(key);
    if (!entry) return undefined;
    if (this.#clock() >= entry.expiresAt) {
      this.#lru?.delete(key);
      return undefined;
    }
    return entry.value;
  }

  /** {@link set} with a key from {@link keyFor}; `bytes`: the entry's estimated size, for `maxBytes`. */
  setByKey(key: string, value: V, expiresAtMs: number, bytes = 1): void {
    if (!this.#lru) return;
    const now = this.#clock();
    const expiresAt = Math.min(expiresAtMs, now + this.#maxTtlMs);
    // Written as "not after now" so that a NaN expiry caches nothing too.
    if (!(expiresAt > now)) return;
    // An entry larger than the whole bound is simply not cached (lru-cache refuses it).
    this.#lru.set(key, { value, expiresAt }, this.#sized ? { size: Math.max(1, Math.ceil(bytes)) } : undefined);
  }

  /** The estimated bytes held (the sum of the sizes given to `set`). */
  get bytes(): number {
    return this.#lru?.calculatedSize ?? 0;
  }

  /** Forgets every entry, e.g. when the rules or issuers change. */
  clear(): void {
    this.#lru?.clear();
  }
}
