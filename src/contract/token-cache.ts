/**
 * The one token-keyed cache, used by gatehouse (verified tokens and their decisions) and by the client library
 * (gatehouse's answers). Per token ONE record: the principal the token speaks for, held once however many answers
 * share it, and the answers by question (an action, with any attributes). Bounded three ways: answers and tokens
 * (`maxEntries` each) and an estimate of the bytes held (`maxBytes`, because a principal carries every claim of its
 * token: 150 groups make ~20 KiB). The least recently used token goes first, with its answers.
 *
 * Keys hash the WHOLE token. Hashing only part of it (say the signature) would let a token with a valid signature
 * and an altered payload hit what was cached for the original. The cache holds hashes, never tokens.
 *
 * Nothing outlives its token's `exp` or now + maxTtl. Expiry is checked here against the injected clock rather than
 * by lru-cache's own TTL: lru-cache debounces its clock with real timers and treats a start time of 0 as "no TTL",
 * both of which would make a fake clock lie. Expired answers are dropped when read, or evicted by size.
 */
import { hash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { measuredByteEstimate, type ByteEstimate, type CachedAnswer } from './cache-bytes.js';
import type { Principal } from './principal.js';

/** The sha256 of the whole token (base64url, fixed length, no "\n"): the only form in which a token is kept. */
export function hashToken(token: string): string {
  // The one-shot crypto.hash (Node >= 20.12) is the same sha256 at half the cost of a Hash object (~1 µs of ~2 µs
  // for a 900-character token): it runs on every call of every door, and in the client's interceptor.
  return hash('sha256', token, 'base64url');
}

export interface TokenCacheOptions {
  /** At most this many answers, and this many tokens; 0 disables the cache. */
  readonly maxEntries: number;
  /** At most about this many bytes, as {@link ByteEstimate} counts them; 0 disables the cache; absent: no byte bound. */
  readonly maxBytes?: number;
  /** Nothing is kept longer than this, in milliseconds; 0 disables the cache; absent: only the token's exp bounds it. */
  readonly maxTtlMs?: number;
  /** Milliseconds since the epoch; tests pass a fake one. */
  readonly clock?: () => number;
  /** What a record and an answer are counted as toward `maxBytes`; default the measured estimate. */
  readonly estimate?: ByteEstimate;
}

export interface CacheSize {
  /** Answers held (decisions). */
  readonly decisions: number;
  readonly tokens: number;
  /** The estimate `maxBytes` bounds. */
  readonly bytes: number;
}

/** One cached answer, as stored: read it, never change it. */
export interface CachedEntry<A> {
  readonly value: A;
  /** The principal the answer was given for: the token's shared one, or undefined if the answer came without one. */
  readonly principal: Principal | undefined;
  /** Milliseconds since the epoch; the answer is gone from this instant on. */
  readonly expiresAtMs: number;
}

/** One token's record. A new object on every change (lru-cache re-measures only a new value); `answers` is carried over. */
interface TokenRecord<A> {
  readonly principal: Principal | undefined;
  /** Until when the principal may be served on its own, as a verified token; 0: only as part of its answers. */
  readonly verifiedUntilMs: number;
  readonly answers: Map<string, CachedEntry<A>>;
  readonly recordBytes: number;
  readonly bytes: number;
}

export class TokenCache<A extends CachedAnswer> {
  readonly #lru: LRUCache<string, TokenRecord<A>> | undefined;
  readonly #maxEntries: number;
  readonly #maxBytes: number;
  readonly #maxTtlMs: number;
  readonly #sized: boolean;
  readonly #clock: () => number;
  readonly #estimate: ByteEstimate;
  #decisions = 0;

  constructor(options: TokenCacheOptions) {
    const { maxEntries, maxBytes, maxTtlMs, clock = Date.now, estimate = measuredByteEstimate } = options;
    if (!Number.isInteger(maxEntries) || maxEntries < 0) {
      throw new RangeError(`maxEntries must be an integer >= 0 (0 disables the cache), got ${maxEntries}`);
    }
    if (maxTtlMs !== undefined && !(Number.isFinite(maxTtlMs) && maxTtlMs >= 0)) {
      throw new RangeError(`maxTtlMs must be a finite number >= 0 (0 disables the cache), got ${maxTtlMs}`);
    }
    if (maxBytes !== undefined && !(Number.isFinite(maxBytes) && maxBytes >= 0)) {
      throw new RangeError(`maxBytes must be a number >= 0 (0 disables the cache), got ${maxBytes}`);
    }
    this.#maxEntries = maxEntries;
    this.#maxBytes = maxBytes ?? Infinity;
    this.#maxTtlMs = maxTtlMs ?? Infinity;
    this.#sized = maxBytes !== undefined && maxBytes > 0;
    this.#clock = clock;
    this.#estimate = estimate;
    const enabled = maxEntries > 0 && maxBytes !== 0 && maxTtlMs !== 0;
    this.#lru = enabled
      ? new LRUCache<string, TokenRecord<A>>({
          max: maxEntries,
          ...(this.#sized ? { maxSize: maxBytes } : {}),
          // Replacing a token's record keeps its answers: only a record that leaves takes them along.
          noDisposeOnSet: true,
          dispose: (record) => {
            this.#decisions -= record.answers.size;
          },
        })
      : undefined;
  }

  get enabled(): boolean {
    return this.#lru !== undefined;
  }

  /** What is held now, expired answers not yet read or evicted included. */
  get size(): CacheSize {
    return { decisions: this.#decisions, tokens: this.#lru?.size ?? 0, bytes: this.#lru?.calculatedSize ?? 0 };
  }

  /** The principal of a token verified before ({@link setVerified}), while that verification may be reused. */
  verified(tokenHash: string): Principal | undefined {
    const record = this.#lru?.get(tokenHash);
    return record && this.#clock() < record.verifiedUntilMs ? record.principal : undefined;
  }

  /**
   * Keeps a verified token's principal until the token's exp or now + maxTtl, whichever comes first (nothing for a
   * token already expired). Returns the principal the record holds: the one already there if it is the same.
   */
  setVerified(tokenHash: string, principal: Principal, tokenLength: number): Principal {
    if (!this.#lru) return principal;
    const now = this.#clock();
    const until = Math.min(principal.expiresAt * 1000, now + this.#maxTtlMs);
    // Written as "not after now" so that a NaN expiry caches nothing too.
    if (!(until > now)) return principal;
    const base = this.#recordFor(tokenHash, principal, tokenLength);
    const held = base.principal ?? principal;
    // A record larger than the whole bound is simply not cached (lru-cache would refuse it and drop the old one).
    if (base.bytes > this.#maxBytes) return held;
    this.#lru.set(tokenHash, { ...base, principal: held, verifiedUntilMs: until }, this.#sizeOf(base.bytes));
    return held;
  }

  /** The answer cached for this token and question, or undefined when absent or expired. */
  get(tokenHash: string, question: string): CachedEntry<A> | undefined {
    const record = this.#lru?.get(tokenHash);
    const entry = record?.answers.get(question);
    if (!record || !entry) return undefined;
    if (this.#clock() >= entry.expiresAtMs) {
      this.#forget(tokenHash, record, question, entry);
      return undefined;
    }
    return entry;
  }

  /**
   * Keeps `value` for this token and question until `expiresAtMs`, but never past the principal's exp nor
   * now + maxTtl. A different principal for the same token (gatehouse describing it anew) drops the token's older
   * answers. Returns the principal the answer is kept with: the token's shared one when `principal` is the same.
   */
  set(
    tokenHash: string,
    question: string,
    value: A,
    principal: Principal | undefined,
    expiresAtMs: number,
    tokenLength: number,
  ): Principal | undefined {
    if (!this.#lru) return principal;
    const now = this.#clock();
    const until = Math.min(expiresAtMs, now + this.#maxTtlMs, principal ? principal.expiresAt * 1000 : Infinity);
    if (!(until > now)) return principal;
    const base = this.#recordFor(tokenHash, principal, tokenLength);
    const recordPrincipal = base.principal ?? principal;
    const held = principal && recordPrincipal;
    const previous = base.answers.get(question);
    const bytes = base.bytes - (previous ? this.#estimate.answer(question, previous.value) : 0) + this.#estimate.answer(question, value);
    // One token whose answers outgrow the whole budget is not cached further (lru-cache would drop it whole).
    if (bytes > this.#maxBytes) return held;

    base.answers.set(question, { value, principal: held, expiresAtMs: until });
    if (!previous) this.#decisions += 1;
    this.#lru.set(tokenHash, { ...base, principal: recordPrincipal, bytes }, this.#sizeOf(bytes));
    this.#keepWithinMaxEntries(tokenHash);
    return held;
  }

  /** Forgets every answer but keeps the verified tokens, e.g. when the rules change. */
  clearAnswers(): void {
    if (!this.#lru) return;
    const now = this.#clock();
    // Least recently used first, so that re-setting each record leaves their order as it was.
    for (const hash of [...this.#lru.rkeys()]) {
      const record = this.#lru.peek(hash);
      if (!record) continue;
      if (!(now < record.verifiedUntilMs)) this.#lru.delete(hash);
      else if (record.answers.size > 0) {
        this.#lru.set(hash, { ...record, answers: new Map(), bytes: record.recordBytes }, this.#sizeOf(record.recordBytes));
      }
    }
    this.#decisions = 0;
  }

  /** Forgets everything, e.g. when a signing key was removed. */
  clear(): void {
    this.#lru?.clear();
    this.#decisions = 0;
  }

  /** The token's record to build on: the one held, unless it holds a different principal (then a new one). */
  #recordFor(tokenHash: string, principal: Principal | undefined, tokenLength: number): TokenRecord<A> {
    const record = this.#lru!.peek(tokenHash);
    if (record && !(record.principal && principal && !samePrincipal(record.principal, principal))) return record;
    if (record) this.#lru!.delete(tokenHash);
    const recordBytes = this.#estimate.record(tokenLength);
    return { principal: undefined, verifiedUntilMs: 0, answers: new Map(), recordBytes, bytes: recordBytes };
  }

  #forget(tokenHash: string, record: TokenRecord<A>, question: string, entry: CachedEntry<A>): void {
    record.answers.delete(question);
    this.#decisions -= 1;
    if (record.answers.size === 0 && !(this.#clock() < record.verifiedUntilMs)) {
      this.#lru!.delete(tokenHash);
      return;
    }
    const bytes = record.bytes - this.#estimate.answer(question, entry.value);
    this.#lru!.set(tokenHash, { ...record, bytes }, this.#sizeOf(bytes));
  }

  /** Too many answers: the least recently used tokens go, then (one token alone over) its oldest answers. */
  #keepWithinMaxEntries(current: string): void {
    while (this.#decisions > this.#maxEntries && this.#lru!.size > 1) this.#lru!.pop();
    const record = this.#lru!.peek(current);
    if (!record || this.#decisions <= this.#maxEntries) return;
    for (const [question, entry] of record.answers) {
      if (this.#decisions <= this.#maxEntries) break;
      this.#forget(current, this.#lru!.peek(current)!, question, entry);
    }
  }

  #sizeOf(bytes: number): { size: number } | undefined {
    return this.#sized ? { size: Math.max(1, Math.ceil(bytes)) } : undefined;
  }
}

/** The same token always yields the same principal; this guards against it being described anew (a reload). */
function samePrincipal(a: Principal, b: Principal): boolean {
  return a.issuer === b.issuer && a.issuerId === b.issuerId && a.subject === b.subject && a.expiresAt === b.expiresAt;
}
