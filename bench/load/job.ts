/**
 * What the main thread asks a load worker to do (structured-clonable), and what it answers. A target is any
 * address, so the same job runs against a canned baseline, one `gatehouse serve`, or a group of worker processes.
 */

/** Where each call's token comes from. */
export type TokenSpec =
  /** The same token every call (a warm cache). */
  | { readonly kind: 'same'; readonly token: string }
  /** Tokens prepared in advance, cycled (each worker starts at its own offset). */
  | { readonly kind: 'pool'; readonly tokens: readonly string[] }
  /** A freshly signed token per call (never seen before: cold), signed in the worker with node:crypto. */
  | {
      readonly kind: 'mint';
      readonly alg: 'RS256' | 'ES256';
      readonly kid: string;
      readonly privateKeyPem: string;
      readonly issuer: string;
      readonly audience: string;
      readonly claims: Readonly<Record<string, unknown>>;
    }
  /** A token naming a `kid` nobody published, a new one every call (the signature is junk). */
  | { readonly kind: 'unknown-kid'; readonly issuer: string; readonly audience: string };

/** What counts as the right answer: anything else is an error. */
export type Expect = 'allow' | 'deny';

export type CallSpec =
  | { readonly door: 'authorize'; readonly address: string; readonly action: string; readonly tokens: TokenSpec; readonly expect: Expect }
  | {
      readonly door: 'authorize-batch';
      readonly address: string;
      readonly actions: readonly string[];
      readonly tokens: TokenSpec;
      readonly expect: Expect;
    }
  | { readonly door: 'verify'; readonly address: string; readonly tokens: TokenSpec; readonly expect: Expect }
  /** Envoy's ext_authz Check for `GET path`. */
  | { readonly door: 'envoy'; readonly address: string; readonly path: string; readonly tokens: TokenSpec; readonly expect: Expect }
  /** HTTP forward auth, `GET /v1/authz` with X-Original-Method GET and X-Original-URI `uri`; address `host:port`. */
  | { readonly door: 'http'; readonly address: string; readonly uri: string; readonly tokens: TokenSpec; readonly expect: Expect }
  /** orders.v1.Orders/GetOrder with the token as `authorization` metadata (protected or not: the server decides). */
  | { readonly door: 'orders'; readonly address: string; readonly tokens: TokenSpec; readonly expect: Expect };

export interface JobSpec {
  /** The calls to make, picked in turn by `weights` (default: equal). */
  readonly calls: readonly CallSpec[];
  readonly weights?: readonly number[];
  /** closed: `concurrency` calls always in flight; open: `ratePerSecond` arrivals, latency from the intended time. */
  readonly mode: 'closed' | 'open';
  readonly concurrency?: number;
  readonly ratePerSecond?: number;
  /** Separate HTTP/2 connections (or HTTP agents) per call spec in this worker. */
  readonly channels: number;
  /** Epoch milliseconds: warm-up starts here; figures count from startAt + warmupMs for durationMs. */
  readonly startAt: number;
  readonly warmupMs: number;
  readonly durationMs: number;
  /** Also return each measured call's completion time and call index (for windows over time: the soak). */
  readonly timeline?: boolean;
}

export interface WorkerResult {
  /** Latency of each measured call, ms (closed: from send; open: from the intended send time). */
  readonly latencies: Float64Array;
  /** With `timeline`: completion time of each measured call, ms after the measured window began. */
  readonly doneAt?: Float64Array;
  /** With `timeline`: the index in `calls` of each measured call. */
  readonly callIndex?: Uint8Array;
  /** Measured calls that failed or answered wrongly (they are not in `latencies`). */
  readonly errors: number;
  /** Errors per call index. */
  readonly errorsByCall: readonly number[];
  /** The first few error messages. */
  readonly errorSamples: readonly string[];
}
