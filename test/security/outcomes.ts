/**
 * What a property test accepts as an answer to hostile input: a typed denial (a reason of src/contract/reasons.ts),
 * or the door's refusal of a request it will not decide (INVALID_ARGUMENT, RESOURCE_EXHAUSTED past the transport's
 * ceiling; on HTTP 400 FORWARD_MALFORMED, 413, 431 HEADERS_TOO_LARGE). Never an allow, never INTERNAL or UNKNOWN.
 */
import assert from 'node:assert/strict';
import { AuthzReasons, TokenReasons } from '../../src/contract/reasons.js';
import { DOORS, type DoorAnswer, type Doors } from './doors.js';
import { bearer } from './world.js';

const TYPED: ReadonlySet<string> = new Set<string>([...TokenReasons, ...AuthzReasons]);
const REFUSED: ReadonlySet<string> = new Set([
  'grpc:INVALID_ARGUMENT',
  'grpc:RESOURCE_EXHAUSTED',
  'FORWARD_MALFORMED',
  'HEADERS_TOO_LARGE',
]);

/** A typed denial or a refused request. */
export function isRefusal(answer: DoorAnswer): boolean {
  return TYPED.has(answer.outcome) || REFUSED.has(answer.outcome);
}

/** Asserts the door refused, with what it said in the message (fast-check adds the counterexample). */
export function assertRefused(answer: DoorAnswer, door: string): void {
  assert.ok(isRefusal(answer), `${door} answered ${answer.outcome} (${answer.status})`);
}

/** The server is still up: a good call is allowed on every door. */
export async function assertAlive(doors: Doors, reader: string): Promise<void> {
  for (const door of DOORS) assert.equal((await doors.ask(door, bearer(reader))).outcome, 'ALLOWED', `${door} after the run`);
}
