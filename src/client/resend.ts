/**
 * Re-sends an idempotent call (Verify, Authorize) whose attempt ended in UNAVAILABLE with no answer: a call in
 * flight on a replica that died ("Connection dropped"), or one the retry policy gave up on. The channel's
 * round_robin has dropped a replica whose connection broke, so the next attempt goes to another one.
 * Bounded three ways: at most `maxResends` more attempts, none past the call's deadline, and a token
 * budget shared by the client's calls (gRPC's retry throttling, A6): when most calls fail, nothing is
 * re-sent and an outage is not multiplied. An answer of any kind, a denial included, is never re-sent:
 * only an attempt that failed with UNAVAILABLE is.
 */
import { status, type ServiceError } from '@grpc/grpc-js';

export interface ResendPolicy {
  /** More attempts after the first; 0 turns re-sending off. */
  readonly maxResends: number;
  readonly budget: ResendBudget;
  /** Called before each re-send (for the metrics). */
  readonly onResend: () => void;
}

/** Wait before re-send n (1-based): 25 ms, 50 ms, ... with ±20 % jitter, so callers of a dead replica spread out. */
const RESEND_BACKOFF_MS = 25;

/** Runs `attempt` and re-sends it while it fails with UNAVAILABLE, within `deadline` (epoch ms). */
export async function withResends<T>(attempt: () => Promise<T>, deadline: number, policy: ResendPolicy): Promise<T> {
  for (let resends = 0; ; resends++) {
    try {
      const answer = await attempt();
      policy.budget.succeeded();
      return answer;
    } catch (err) {
      if (!isUnavailable(err)) throw err;
      policy.budget.failed();
      const wait = RESEND_BACKOFF_MS * 2 ** resends * (0.8 + 0.4 * Math.random());
      if (resends >= policy.maxResends || Date.now() + wait >= deadline || !policy.budget.allows()) throw err;
      await new Promise((resolve) => setTimeout(resolve, wait));
      policy.onResend();
    }
  }
}

function isUnavailable(err: unknown): err is ServiceError {
  return typeof err === 'object' && err !== null && (err as Partial<ServiceError>).code === status.UNAVAILABLE && 'details' in err;
}

/** gRPC's retry throttling: a failure costs a token, a success earns `tokenRatio`; re-send only above half. */
export class ResendBudget {
  #tokens: number;

  constructor(
    readonly maxTokens = 10,
    readonly tokenRatio = 0.1,
  ) {
    this.#tokens = maxTokens;
  }

  failed(): void {
    this.#tokens = Math.max(0, this.#tokens - 1);
  }

  succeeded(): void {
    this.#tokens = Math.min(this.maxTokens, this.#tokens + this.tokenRatio);
  }

  allows(): boolean {
    return this.#tokens > this.maxTokens / 2;
  }
}
