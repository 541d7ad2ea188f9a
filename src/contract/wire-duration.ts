/** google.protobuf.Duration ⇄ milliseconds, for `cache_for`: the server writes it, the client library reads it. */
import type { WireDuration } from './messages.js';

/** Whole milliseconds, never negative. */
export function durationFromMs(ms: number): WireDuration {
  const whole = Math.max(0, Math.round(ms));
  return { seconds: Math.floor(whole / 1000), nanos: (whole % 1000) * 1e6 };
}

/** Whole milliseconds, never negative; an absent duration is 0. */
export function msFromDuration(duration: WireDuration | null | undefined): number {
  const seconds = duration?.seconds ?? 0;
  const nanos = duration?.nanos ?? 0;
  return Math.max(0, seconds * 1000 + Math.floor(nanos / 1e6));
}
