/**
 * How long the primary waits before restarting a worker that exited unexpectedly: 100 ms after a lone crash,
 * doubling with every other crash in the last minute, at most 30 s, so a crash loop does not spin.
 */
export const RESTART_BASE_MS = 100;
export const RESTART_MAX_MS = 30_000;
export const CRASH_WINDOW_MS = 60_000;

export class RestartBackoff {
  readonly #crashes: number[] = [];

  constructor(private readonly now: () => number = Date.now) {}

  /** Records a crash now; returns the delay before the replacement starts, in milliseconds. */
  crashed(): number {
    const now = this.now();
    while (this.#crashes.length > 0 && now - this.#crashes[0]! > CRASH_WINDOW_MS) this.#crashes.shift();
    this.#crashes.push(now);
    return Math.min(RESTART_MAX_MS, RESTART_BASE_MS * 2 ** (this.#crashes.length - 1));
  }
}
