/**
 * The AuthClient's local decision cache: gatehouse's answers kept for as long as their `cache_for` allows, in the
 * token cache the server uses too (contract/token-cache.ts: one principal per token shared by its decisions,
 * bounded by decisions and by estimated bytes, never past the token's exp). This file only maps the client's
 * Decision values in and out of it.
 */
import { hashToken, TokenCache, type CacheSize } from '../contract/token-cache.js';
import type { Decision } from './decision.js';

export type { CacheSize };

export interface CacheLimits {
  /** Decisions kept at most; 0 disables the cache. */
  readonly maxEntries: number;
  /** Estimated bytes kept at most; 0 disables the cache. */
  readonly maxBytes: number;
}

/**
 * `<sha256 of the token, base64url>\n<JSON of [action, attributes sorted by name]>`. The hash is fixed-length
 * and has no "\n"; JSON quotes whatever the action or attributes contain. No two questions share a key.
 */
export function cacheKey(token: string, action: string, attributes: Readonly<Record<string, string>> | undefined): string {
  // No attributes (the common question) skips the entries and the sort: the same text as an empty object's.
  const sorted = attributes == null ? [] : Object.entries(attributes).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `${hashToken(token)}\n${JSON.stringify([action, sorted])}`;
}

export class LocalDecisionCache {
  readonly #cache: TokenCache<Decision>;
  readonly #clock: () => number;

  constructor(limits: CacheLimits, clock: () => number) {
    this.#clock = clock;
    this.#cache = new TokenCache({ maxEntries: limits.maxEntries, maxBytes: limits.maxBytes, clock });
  }

  get enabled(): boolean {
    return this.#cache.enabled;
  }

  get size(): CacheSize {
    return this.#cache.size;
  }

  get(key: string): Decision | undefined {
    const [hash, question] = splitKey(key);
    const entry = this.#cache.get(hash, question);
    if (!entry) return undefined;
    return { ...entry.value, principal: entry.principal, cached: true, cacheForMs: Math.max(0, entry.expiresAtMs - this.#clock()) };
  }

  /**
   * Keeps a fresh decision for as long as it may be reused, and returns it with the principal its token's
   * other decisions already share (the same object), if gatehouse described the same principal.
   */
  set(key: string, decision: Decision, tokenLength: number): Decision {
    if (!this.#cache.enabled || decision.cacheForMs <= 0) return decision;
    const [hash, question] = splitKey(key);
    // The record holds the principal once; a stored decision keeping its own copy would hold it twice.
    const stored = decision.principal ? { ...decision, principal: undefined } : decision;
    const held = this.#cache.set(hash, question, stored, decision.principal, this.#clock() + decision.cacheForMs, tokenLength);
    return held === decision.principal ? decision : { ...decision, principal: held };
  }

  clear(): void {
    this.#cache.clear();
  }
}

function splitKey(key: string): [hash: string, question: string] {
  const at = key.indexOf('\n');
  return [key.slice(0, at), key.slice(at + 1)];
}
