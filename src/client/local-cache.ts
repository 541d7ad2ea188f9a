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
 * A cached answer is found by the sha256 of its token (base64url, fixed length, no "\n", from `hashToken`) and the
 * question: the JSON of `[action, attributes sorted by name]`, which quotes whatever the action or attributes
 * contain, so no two questions share a text.
 */
export function questionText(action: string, attributes: Readonly<Record<string, string>> | undefined): string {
  if (attributes != null) {
    const sorted = Object.entries(attributes).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return JSON.stringify([action, sorted]);
  }
  // No attributes (the common question, on every call of a service): one text per method, written once.
  let text = bareQuestions.get(action);
  if (text === undefined) {
    if (bareQuestions.size >= MAX_BARE_QUESTIONS) bareQuestions.clear();
    text = JSON.stringify([action, []]);
    bareQuestions.set(action, text);
  }
  return text;
}

/** A service has a few dozen methods; the bound only keeps a caller naming random paths from growing the map. */
const MAX_BARE_QUESTIONS = 1024;
const bareQuestions = new Map<string, string>();

/**
 * A caller's token's sha256 (`hashToken`), computed once while consecutive calls bring the same token: a caller does
 * for its token's life, and the hash is the dearest step of a cached answer in a loaded service (~5 µs with the CPU
 * caches cold). One raw token stays in memory for it: the latest call's, until a call brings another or `forget()`.
 */
export class TokenHasher {
  #token: string | undefined;
  #hash = '';

  hash(token: string): string {
    // A string only: a JavaScript caller's Buffer could be refilled with another token's bytes between two calls.
    if (typeof token !== 'string') return hashToken(token);
    if (token !== this.#token) {
      this.#hash = hashToken(token);
      this.#token = token;
    }
    return this.#hash;
  }

  forget(): void {
    this.#token = undefined;
    this.#hash = '';
  }
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

  get(tokenHash: string, question: string): Decision | undefined {
    const entry = this.#cache.get(tokenHash, question);
    if (!entry) return undefined;
    return { ...entry.value, principal: entry.principal, cached: true, cacheForMs: Math.max(0, entry.expiresAtMs - this.#clock()) };
  }

  /**
   * Keeps a fresh decision for as long as it may be reused, and returns it with the principal its token's
   * other decisions already share (the same object), if gatehouse described the same principal.
   */
  set(tokenHash: string, question: string, decision: Decision, tokenLength: number): Decision {
    if (!this.#cache.enabled || decision.cacheForMs <= 0) return decision;
    // The record holds the principal once; a stored decision keeping its own copy would hold it twice.
    const stored = decision.principal ? { ...decision, principal: undefined } : decision;
    const held = this.#cache.set(tokenHash, question, stored, decision.principal, this.#clock() + decision.cacheForMs, tokenLength);
    return held === decision.principal ? decision : { ...decision, principal: held };
  }

  clear(): void {
    this.#cache.clear();
  }
}
