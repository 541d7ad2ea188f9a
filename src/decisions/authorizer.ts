/**
 * The decision engine every front door calls: verify the token, evaluate the rules, cache the decision.
 * Transport-free. Rules are swapped atomically on reload (a call uses the policy it started with) and a swap
 * clears the decision cache. Any exception on the path becomes a denial in the caller, never an allow.
 */
import { stripBearer } from '../contract/bearer.js';
import type { Clock } from '../verification/clock.js';
import { isTokenError } from '../verification/errors.js';
import type { Principal } from '../contract/principal.js';
import { verifyTokenNow, type VerificationContext } from '../verification/verify-token.js';
import { authorize, decideWithoutToken, decisionValidUntilMs } from '../policy/authorize.js';
import { claimsChallenge } from '../policy/auth-context.js';
import { authorizationEndpoint } from '../verification/authorization-endpoint.js';
import type { CompiledPolicy } from '../policy/compile-rules.js';
import type { Decision } from '../policy/decision.js';
import { hashToken, TokenCache } from '../contract/token-cache.js';
import type { Facts } from '../policy/condition-variables.js';
import { questionKey } from './question-key.js';
import { authorizeOutcome, type AuthorizeOutcome, type TokenRefusal, type VerifyOutcome } from './outcome.js';
import { describeRevocation, RevocationList } from '../policy/revocation-list.js';
import type { RevocationsInForce } from './revocation-source.js';

export interface AuthorizerOptions {
  readonly verification: VerificationContext;
  readonly policy: CompiledPolicy;
  readonly clock: Clock;
  readonly decisionMaxTtlMs: number;
  readonly decisionMaxEntries: number;
  /** Byte bound of the cache (0 disables caching; absent: no byte bound). */
  readonly decisionMaxBytes?: number;
  /** The revocation list in force, read on every call (absent: nothing is revoked). */
  readonly revocations?: RevocationsInForce;
  /**
   * The longest `cache_for` callers are told (revocations.client_cache_max when a revocation file is in force): this
   * engine checks revocations on every call, cached or not, but a client's own cache cannot be recalled.
   */
  readonly callerCacheMaxMs?: number;
}

const NO_REVOCATIONS: RevocationsInForce = { list: RevocationList.empty };

export class Authorizer {
  readonly verification: VerificationContext;
  readonly #clock: Clock;
  readonly #maxTtlMs: number;
  readonly #callerCacheMaxMs: number;
  /**
   * Per token (by hash): its verified principal, so a known token asking about a new action skips signature
   * checks, and the decisions made for it under the current rules.
   */
  readonly #cache: TokenCache<Decision>;
  #policy: CompiledPolicy;
  #keyGeneration = 0;
  readonly #revocations: RevocationsInForce;

  constructor(options: AuthorizerOptions) {
    this.verification = options.verification;
    this.#policy = options.policy;
    this.#clock = options.clock;
    this.#maxTtlMs = options.decisionMaxTtlMs;
    this.#callerCacheMaxMs = options.callerCacheMaxMs ?? Infinity;
    this.#revocations = options.revocations ?? NO_REVOCATIONS;
    this.#cache = new TokenCache({
      maxEntries: options.decisionMaxEntries,
      maxTtlMs: options.decisionMaxTtlMs,
      maxBytes: options.decisionMaxBytes,
      clock: options.clock,
    });
  }

  get policy(): CompiledPolicy {
    return this.#policy;
  }

  get cachedDecisions(): number {
    return this.#cache.size.decisions;
  }

  /** Swaps the rules in one step and forgets every cached decision made under the old ones. */
  setPolicy(policy: CompiledPolicy): void {
    this.#policy = policy;
    this.#cache.clearAnswers();
  }

  /** Who the token speaks for. A token verified before (and not yet expired) is served from the cache. */
  async verify(token: string): Promise<VerifyOutcome> {
    return this.check(token);
  }

  /** {@link verify}, answered synchronously when nothing needs fetching (see verifyTokenNow). Else a promise. */
  check(token: string): VerifyOutcome | Promise<VerifyOutcome> {
    const bare = stripBearer(token);
    this.#forgetIfKeysRemoved();
    return this.#verify(token, this.#tokenHash(bare), bare.length);
  }

  /** The callers have already dropped what a removed key invalidated (#forgetIfKeysRemoved). */
  #verify(token: string, tokenHash: string, tokenLength: number): VerifyOutcome | Promise<VerifyOutcome> {
    const hit = tokenHash ? this.#cache.verified(tokenHash) : undefined;
    if (hit) return this.#revoked(hit) ?? { valid: true, principal: hit, cached: true };
    let verified: Principal | Promise<Principal>;
    try {
      verified = verifyTokenNow(this.verification, token);
    } catch (err) {
      return refusalOf(err);
    }
    if (verified instanceof Promise) return verified.then((principal) => this.#verified(principal, tokenHash, tokenLength), refusalOf);
    return this.#verified(verified, tokenHash, tokenLength);
  }

  #verified(verified: Principal, tokenHash: string, tokenLength: number): VerifyOutcome {
    const principal = tokenHash ? this.#cache.setVerified(tokenHash, verified, tokenLength) : verified;
    return this.#revoked(principal) ?? { valid: true, principal, cached: false };
  }

  /** One decision. `facts`: what the door knows of the call (attributes, the HTTP request) for `when` conditions. */
  async authorize(token: string, action: string, facts?: Facts): Promise<AuthorizeOutcome> {
    return this.answer(token, action, facts);
  }

  /**
   * {@link authorize}, answered synchronously when no token needs verifying (a cached decision, a public rule, a
   * path refused before verification): the doors' hot path, with no promise and no microtask. Else a promise.
   */
  answer(token: string, action: string, facts?: Facts): AuthorizeOutcome | Promise<AuthorizeOutcome> {
    const answered = this.answerMany(token, [action], facts);
    return answered instanceof Promise ? answered.then((outcomes) => outcomes[0]!) : answered[0]!;
  }

  /**
   * One verification (at most), many decisions, in the order of `actions`, all with the same `facts`. A decision
   * whose condition read facts is cached under those facts only (question-key.ts); one that read `now`, never.
   */
  async authorizeMany(token: string, actions: readonly string[], facts?: Facts): Promise<AuthorizeOutcome[]> {
    return this.answerMany(token, actions, facts);
  }

  /** {@link authorizeMany}, answered synchronously when no token needs verifying (see {@link answer}). */
  answerMany(token: string, actions: readonly string[], facts?: Facts): AuthorizeOutcome[] | Promise<AuthorizeOutcome[]> {
    const policy = this.#policy;
    const results: (AuthorizeOutcome | undefined)[] = new Array(actions.length);
    // Keyed by the token itself, so "Bearer <jwt>" and "<jwt>" share one entry; with the cache off, not hashed at all.
    const bare = stripBearer(token);
    const tokenHash = this.#tokenHash(bare);
    this.#forgetIfKeysRemoved();
    let pending = false;
    const questions: (string | undefined)[] = new Array(actions.length);
    for (let i = 0; i < actions.length; i++) {
      const action = actions[i]!;
      // A public rule needs no token, and a non-canonical HTTP path is refused: both before anything is verified.
      const early = decideWithoutToken(policy, action);
      if (early) {
        results[i] = authorizeOutcome(early, undefined, early.allowed ? this.#maxTtlMs : 0, false);
        continue;
      }
      const question = questionKey(policy, action, facts);
      questions[i] = question;
      const hit = tokenHash && question !== undefined ? this.#cache.get(tokenHash, question) : undefined;
      // Every cached decision was made for a verified principal (token refusals are not cached); a revocation
      // loaded since is checked on the cached principal, so it is never served past the list.
      const revoked = hit?.principal && this.#revoked(hit.principal);
      if (revoked) results[i] = authorizeOutcome(revoked, undefined, 0, false);
      else if (hit?.principal) results[i] = this.#fromDecision(hit.value, hit.principal, hit.expiresAtMs, true);
      else pending = true;
    }
    if (!pending) return results as AuthorizeOutcome[];
    // The rest: the token verified (or its cached verification), then each open decision.
    const decide = (verified: VerifyOutcome) => this.#decide(policy, verified, tokenHash, bare.length, actions, facts, questions, results);
    const verified = this.#verify(token, tokenHash, bare.length);
    return verified instanceof Promise ? verified.then(decide) : decide(verified);
  }

  /** Each open decision of {@link answerMany}, for the token's verification outcome. */
  #decide(
    policy: CompiledPolicy,
    verified: VerifyOutcome,
    tokenHash: string,
    tokenLength: number,
    actions: readonly string[],
    facts: Facts | undefined,
    questions: readonly (string | undefined)[],
    results: (AuthorizeOutcome | undefined)[],
  ): AuthorizeOutcome[] {
    for (let i = 0; i < actions.length; i++) {
      if (results[i]) continue;
      if (!verified.valid) {
        results[i] = authorizeOutcome(verified, undefined, 0, false);
        continue;
      }
      const action = actions[i]!;
      const principal = verified.principal;
      const now = this.#clock();
      const decision = authorize(policy, principal, action, { facts, nowMs: now });
      const question = questions[i];
      // A decision that read `now` holds for this instant only: not cached, and cache_for 0 tells callers so. Else
      // never past the token's exp, the cache's bound, nor the instant the rules would answer otherwise (max_age).
      const validUntilMs = decisionValidUntilMs(policy, decision, principal);
      const expiresAtMs = question === undefined ? now : Math.min(principal.expiresAt * 1000, now + this.#maxTtlMs, validUntilMs);
      // A reload between verification and here must not let an old-policy decision into the new cache.
      if (tokenHash && question !== undefined && policy === this.#policy) {
        this.#cache.set(tokenHash, question, decision, principal, expiresAtMs, tokenLength);
      }
      results[i] = this.#fromDecision(decision, principal, expiresAtMs, false);
    }
    return results as AuthorizeOutcome[];
  }

  /** The cache's key for a bare token; '' (nothing cached, nothing looked up) for none, or with the cache off. */
  #tokenHash(bare: string): string {
    return bare && this.#cache.enabled ? hashToken(bare) : '';
  }

  /** A provider dropped a key: nothing verified with it may be served from a cache any more. */
  #forgetIfKeysRemoved(): void {
    const generation = this.verification.keyCache.generation;
    if (generation === this.#keyGeneration) return;
    this.#keyGeneration = generation;
    this.#cache.clear();
  }

  /** TOKEN_REVOKED when an entry of the list in force matches (a few hash lookups), else undefined. */
  #revoked(principal: Principal): TokenRefusal | undefined {
    const match = this.#revocations.list.match(principal);
    if (!match) return undefined;
    const message = describeRevocation(match);
    return { valid: false, reason: 'TOKEN_REVOKED', message, detail: `revocation entry [${match.index}]`, issuerId: principal.issuerId };
  }

  #fromDecision(decision: Decision, principal: Principal, expiresAtMs: number, cached: boolean): AuthorizeOutcome {
    const cacheForMs = Math.max(0, Math.min(expiresAtMs - this.#clock(), this.#callerCacheMaxMs));
    return authorizeOutcome(
      decision,
      principal,
      Number.isFinite(cacheForMs) ? cacheForMs : 0,
      cached,
      this.#challenge(decision, principal),
    );
  }

  /** The claims challenge a denial asks for, pointing at the authorize endpoint of the token's issuer. */
  #challenge(decision: Decision, principal: Principal): string | undefined {
    if (decision.allowed || !decision.challengeFor) return undefined;
    const uri = authorizationEndpoint(this.verification, principal);
    return uri ? claimsChallenge(uri, decision.challengeFor) : undefined;
  }
}

/** A token's refusal as an outcome; anything else (a defect) is thrown on, for the door to answer INTERNAL. */
function refusalOf(err: unknown): TokenRefusal {
  if (isTokenError(err)) return { valid: false, reason: err.reason, message: err.message, detail: err.detail, issuerId: err.issuerId };
  throw err;
}
