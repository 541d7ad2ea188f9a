/** The request id of a call: the caller's `x-request-id` when it is sane, else a new one. Shared by server and client. */
import { randomUUID } from 'node:crypto';

const SANE = /^[\w.:\-/+=]{1,128}$/;

export function requestIdFrom(value: unknown): string {
  return typeof value === 'string' && SANE.test(value) ? value : randomUUID();
}
