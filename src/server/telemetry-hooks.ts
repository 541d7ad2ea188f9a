/**
 * What the gRPC adapters report, implemented by telemetry/ and handed in (so adapters stay testable without
 * a metrics registry). Calls must be cheap: they run on every request.
 */
import type { AuthorizeOutcome, VerifyOutcome } from '../decisions/outcome.js';

/** The front door a decision came through: gatehouse's RPCs, Envoy's ext_authz Check, or HTTP forward auth. */
export type Door = 'grpc' | 'envoy' | 'http';

export interface DecisionHooks {
  /** An Authorize decision (one per action of a batch). */
  onAuthorize(action: string, outcome: AuthorizeOutcome, seconds: number, requestId: string, door: Door): void;
  /** A Verify outcome. */
  onVerify(outcome: VerifyOutcome, seconds: number, cached: boolean, requestId: string): void;
  /** A bug: the caller got INTERNAL with a fixed message; this is where the error itself goes. */
  onInternalError(method: string, err: unknown, requestId: string): void;
}

export const noopHooks: DecisionHooks = { onAuthorize() {}, onVerify() {}, onInternalError() {} };
