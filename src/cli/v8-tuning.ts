/**
 * V8 settings for a process that serves (`gatehouse serve`, each of its workers, `gatehouse dev`), set before the
 * server's modules load. Node's NODE_OPTIONS refuses V8 flags outside a short list, so the image cannot set these
 * itself, and a user running `npx gatehouse serve` would not know to.
 *
 * `--no-allocation-site-pretenuring`. V8 allocates an object literal's later objects straight in old space once a
 * scavenge found nearly all of its objects alive (allocation-site pretenuring). Under load that can misfire in a
 * server: the short-lived objects of the calls one event-loop turn has in hand are all alive when a scavenge lands,
 * the site goes to old space, and dead objects there keep what they point to alive through every scavenge until a
 * full collection. Seen here on forward auth before its header change (5788b3c): ~2 KB promoted per call and a
 * mark-compact every 1-2 s (`--trace-gc`), 4-14 % more calls/s with the flag in every A/B pair. After that change,
 * forward auth no longer tips over (no difference), and warm Authorize gains ~3 % (4 of 6 pairs):
 * bench/results/hot-path.md section 8. Kept as a guard: nothing gatehouse keeps for long is made at a hot literal,
 * so objects that do live long are promoted the usual way, a scavenge or two later.
 */
import { setFlagsFromString } from 'node:v8';

export const SERVING_V8_FLAGS: readonly string[] = Object.freeze(['--no-allocation-site-pretenuring']);

/**
 * Applies {@link SERVING_V8_FLAGS}, unless node was started with the opposite flag (an operator's explicit choice),
 * spelled as V8 takes it: with `-` or `_`, with or without a value.
 */
export function tuneV8ForServing(execArgv: readonly string[] = process.execArgv): void {
  const given = new Set(execArgv.map((arg) => arg.split('=')[0]!.replace(/_/g, '-')));
  for (const flag of SERVING_V8_FLAGS) {
    if (!given.has(flag.replace(/^--no-/, '--'))) setFlagsFromString(flag);
  }
}
