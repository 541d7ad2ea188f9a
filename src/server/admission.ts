/**
 * Admission control: at most `server.max_inflight` calls are worked on at once, across every door (gatehouse's
 * RPCs, Envoy's Check, HTTP forward auth). A call beyond it is shed at once, before any work, so a replica past its
 * capacity answers fast and callers retry elsewhere instead of queueing behind latency that grows without bound.
 * Health, readiness and metrics never pass here: they are never shed.
 */
import type { Door } from './telemetry-hooks.js';

export const DOORS: readonly Door[] = ['grpc', 'envoy', 'http'];

/** What a shed call is told, on every door. */
export const OVERLOADED_MESSAGE = 'gatehouse is overloaded (server.max_inflight calls in flight); retry on another replica';

export interface Admission {
  /** Takes a slot for a call on `door`; false (and the call counted as shed) when every slot is taken. */
  tryEnter(door: Door): boolean;
  /** Gives back the slot of a call admitted on `door`. */
  leave(door: Door): void;
  /** Calls in flight now, per door. */
  inFlight(): Readonly<Record<Door, number>>;
}

/** `onShed` runs once per shed call (the metric); it must be cheap. */
export function createAdmission(maxInFlight: number, onShed: (door: Door) => void): Admission {
  let total = 0;
  const perDoor: Record<Door, number> = { grpc: 0, envoy: 0, http: 0 };
  return {
    tryEnter(door) {
      if (total >= maxInFlight) {
        onShed(door);
        return false;
      }
      total += 1;
      perDoor[door] += 1;
      return true;
    },
    leave(door) {
      total -= 1;
      perDoor[door] -= 1;
    },
    inFlight: () => ({ ...perDoor }),
  };
}

/** A slot that is given back at most once, whichever of a call's endings comes first. */
export function enterOnce(admission: Admission, door: Door): (() => void) | undefined {
  if (!admission.tryEnter(door)) return undefined;
  let held = true;
  return () => {
    if (!held) return;
    held = false;
    admission.leave(door);
  };
}
