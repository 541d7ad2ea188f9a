/** The request id of a call: the given `x-request-id` when it is sane, else a new one (same rule as gatehouse). */
import { randomUUID } from 'node:crypto';

const SANE = /^[\w.:\-/+=]{1,128}$/;

export function requestIdFrom(value: unknown): string {
  return typeof value === 'string' && SANE.test(value) ? value : randomUUID();
}
