/**
 * This service's own memory of gatehouse's decisions, so repeated calls with the same token skip the round
 * trip. Bounded (least recently used evicted first); an entry lives as long as gatehouse's `cache_for` says
 * and never past the token's `exp`. Keys are the sha256 of the WHOLE token plus the action (and attributes):
 * the cache holds hashes, never tokens.
 */
import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { Decision } from './decision.js';

export function cacheKey(token: string, action: string, attributes: Readonly<Record<string, string>> | undefined): string {
  const hash = createHash('sha256').update(token, 'utf8').digest('base64url');
  // A fixed-length hash without "\n" up front: no (token, action, attributes) triple collides with another.
  const attrs = attributes && Object.keys(attributes).length > 0 ? `\n${JSON.stringify(Object.entries(attributes).sort())}` : '';
  return `${hash}\n${action}${attrs}`;
}

interface Entry {
  readonly decision: Decision;
  readonly expiresAtMs: number;
}

export class LocalDecisionCache {
  // Expiry is checked against the injected clock, not lru-cache's TTL (its own timers would ignore a fake clock).
  readonly #lru: LRUCache<string, Entry> | undefined;
  readonly #clock: () => number;

  constructor(maxEntries: number, clock: () => number) {
    this.#lru = maxEntries > 0 ? new LRUCache({ max: maxEntries }) : undefined;
    this.#clock = clock;
  }

  get enabled(): boolean {
    return this.#lru !== undefined;
  }

  get size(): number {
    return this.#lru?.size ?? 0;
  }

  get(key: string): Decision | undefined {
    const entry = this.#lru?.get(key);
    if (!entry) return undefined;
    const left = entry.expiresAtMs - this.#clock();
    if (left <= 0) {
      this.#lru!.delete(key);
      return undefined;
    }
    return { ...entry.decision, cached: true, cacheForMs: left };
  }

  set(key: string, decision: Decision): void {
    if (!this.#lru || decision.cacheForMs <= 0) return;
    const now = this.#clock();
    const tokenExpiry = decision.principal ? decision.principal.expiresAt * 1000 : Infinity;
    const expiresAtMs = Math.min(now + decision.cacheForMs, tokenExpiry);
    if (expiresAtMs > now) this.#lru.set(key, { decision, expiresAtMs });
  }

  clear(): void {
    this.#lru?.clear();
  }
}
