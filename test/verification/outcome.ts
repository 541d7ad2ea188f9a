import assert from 'node:assert/strict';
import type { TokenReason } from '../../src/contract/reasons.js';
import { TokenError } from '../../src/verification/errors.js';

/** What a verification came to: `VALID`, or the TokenError's reason. Any other rejection fails the test. */
export async function reasonOf(promise: Promise<unknown>): Promise<TokenReason | 'VALID'> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof TokenError, `expected a TokenError, got ${String(err)}`);
    return err.reason;
  }
  return 'VALID';
}
