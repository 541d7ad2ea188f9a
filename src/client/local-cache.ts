/**
 * The AuthClient's local decision cache. Per token, keyed by the sha256 of the whole token (the cache holds
 * hashes, never tokens), it keeps ONE principal shared by all of that token's decisions, one decision per
 * question (action and attributes). Bounded twice: by decisions (`maxEntries`) and by an estimate of the
 * bytes held (`maxBytes`), because a principal carries every claim of its token (150 groups make a principal
 * of ~20 KiB). The least recently used token goes first, with its decisions. Expiry is checked against the
 * injected clock, not lru-cache's TTL (its own timers would ignore a fake clock).
 */
import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { Decision, Principal } from './decision.js';

export interface CacheLimits {
  /** Decisions kept at most; 0 disables the cache. */
  readonly maxEntries: number;
  /** Estimated bytes kept at most; 0 disables the cache. */
  readonly maxBytes: number;
}

export interface CacheSize {
  readonly decisions: number;
  readonly tokens: number;
  /** The estimate `maxBytes` bounds. */
  readonly bytes: number;
}

/**
 * `<sha256 of the token, base64url>\n<JSON of [action, attributes sorted by name]>`. The hash is fixed-length
 * and has no "\n"; JSON quotes whatever the action or attributes contain. No two questions share a key.
 */
export function cacheKey(token: string, action: string, attributes: Readonly<Record<string, string>> | undefined): string {
  const hash = createHash('sha256').update(token, 'utf8').digest('base64url');
  const sorted = Object.entries(attributes ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `${hash}\n${JSON.stringify([action, sorted])}`;
}

/*
 * Estimates on the safe side of what Node 20 holds (--expose-gc, gatehouse's own caches subtracted): a
 * principal holds its token's claims about twice over (`groups` and `claims.groups`) as V8 strings, arrays
 * and objects. Measured per token with 1 and 10 decisions: a 1,000-character token 2.6-3.7 KiB (estimated
 * 5.2-8.0), 150 groups (8,800 characters) 21 KiB (estimated 28-31), 250 groups (14,000) 33-35 KiB (43-46).
 */
const TOKEN_OVERHEAD_BYTES = 2048;
const PRINCIPAL_BYTES_PER_TOKEN_CHAR = 3;
const DECISION_OVERHEAD_BYTES = 256;

interface Answer {
  readonly decision: Decision;
  readonly expiresAtMs: number;
}

/** One token's entry. A new object on every change (lru-cache re-measures only a new value); `answers` is carried over. */
interface TokenRecord {
  readonly principal: Principal | undefined;
  readonly answers: Map<string, Answer>;
  readonly tokenBytes: number;
  readonly bytes: number;
}

export class LocalDecisionCache {
  readonly #lru: LRUCache<string, TokenRecord> | undefined;
  readonly #limits: CacheLimits;
  readonly #clock: () => number;
  #decisions = 0;

  constructor(limits: CacheLimits, clock: () => number) {
    this.#limits = limits;
    this.#clock = clock;
    this.#lru =
      limits.maxEntries > 0 && limits.maxBytes > 0
        ? new LRUCache<string, TokenRecord>({
            maxSize: limits.maxBytes,
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

  get size(): CacheSize {
    return { decisions: this.#decisions, tokens: this.#lru?.size ?? 0, bytes: this.#lru?.calculatedSize ?? 0 };
  }

  get(key: string): Decision | undefined {
    if (!this.#lru) return undefined;
    const [hash, question] = splitKey(key);
    const record = this.#lru.get(hash);
    const answer = record?.answers.get(question);
    if (!record || !answer) return undefined;
    const left = answer.expiresAtMs - this.#clock();
    if (left <= 0) {
      this.#forget(hash, record, question, answer);
      return undefined;
    }
    return { ...answer.decision, cached: true, cacheForMs: left };
  }

  /**
   * Keeps a fresh decision for as long as it may be reused, and returns it with the principal its token's
   * other decisions already share (the same object), if gatehouse described the same principal.
   */
  set(key: string, decision: Decision, tokenLength: number): Decision {
    if (!this.#lru || decision.cacheForMs <= 0) return decision;
    const now = this.#clock();
    const tokenExpiry = decision.principal ? decision.principal.expiresAt * 1000 : Infinity;
    const expiresAtMs = Math.min(now + decision.cacheForMs, tokenExpiry);
    if (expiresAtMs <= now) return decision;

    const [hash, question] = splitKey(key);
    let record = this.#lru.peek(hash);
    if (record?.principal && decision.principal && !samePrincipal(record.principal, decision.principal)) {
      // gatehouse now describes this token differently: its older decisions go.
      this.#lru.delete(hash);
      record = undefined;
    }
    const principal = record?.principal ?? decision.principal;
    const stored: Decision = decision.principal && principal !== decision.principal ? { ...decision, principal } : decision;
    const tokenBytes = record?.tokenBytes ?? TOKEN_OVERHEAD_BYTES + PRINCIPAL_BYTES_PER_TOKEN_CHAR * tokenLength;
    const answers = record?.answers ?? new Map<string, Answer>();
    const previous = answers.get(question);
    const bytes =
      (record?.bytes ?? tokenBytes) - (previous ? decisionBytes(question, previous.decision) : 0) + decisionBytes(question, stored);
    // One token whose decisions outgrow the whole budget is not cached further (lru-cache would drop it whole).
    if (bytes > this.#limits.maxBytes) return stored;

    answers.set(question, { decision: stored, expiresAtMs });
    if (!previous) this.#decisions += 1;
    this.#lru.set(hash, { principal, answers, tokenBytes, bytes }, { size: bytes });
    while (this.#decisions > this.#limits.maxEntries && this.#lru.size > 0) this.#lru.pop();
    return stored;
  }

  clear(): void {
    this.#lru?.clear();
  }

  #forget(hash: string, record: TokenRecord, question: string, answer: Answer): void {
    record.answers.delete(question);
    this.#decisions -= 1;
    if (record.answers.size === 0) {
      this.#lru!.delete(hash);
      return;
    }
    const bytes = record.bytes - decisionBytes(question, answer.decision);
    this.#lru!.set(hash, { ...record, bytes }, { size: bytes });
  }
}

function splitKey(key: string): [hash: string, question: string] {
  const at = key.indexOf('\n');
  return [key.slice(0, at), key.slice(at + 1)];
}

function decisionBytes(question: string, decision: Decision): number {
  const message = decision.allowed ? '' : decision.message;
  return DECISION_OVERHEAD_BYTES + 2 * (question.length + decision.rule.length + message.length);
}

/** The same token always yields the same principal; this guards against gatehouse describing it anew (a reload). */
function samePrincipal(a: Principal, b: Principal): boolean {
  return a.issuer === b.issuer && a.issuerId === b.issuerId && a.subject === b.subject && a.expiresAt === b.expiresAt;
}
