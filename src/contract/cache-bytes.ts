/**
 * What the token cache counts toward its byte bound. An estimate, kept in this one place so it can be
 * re-measured and tuned without touching the cache: the server and the client library pass it (or a tuned
 * one) to {@link TokenCache}.
 */

/** The parts of a cached answer that take memory beyond a fixed overhead: its rule id and its message. */
export interface CachedAnswer {
  readonly rule: string;
  /** A denial's message; absent on an allow. */
  readonly message?: string;
}

/** The estimated bytes of each part of a token's record. */
export interface ByteEstimate {
  /** One token's record: the record itself and the principal it holds (counted once, however many answers). */
  readonly record: (tokenLength: number) => number;
  /** One answer in a token's record, kept under `question` (the action, with any attributes). */
  readonly answer: (question: string, answer: CachedAnswer) => number;
}

/*
 * Estimates on the safe side of what Node 20 holds (--expose-gc, gatehouse's own caches subtracted): a
 * principal holds its token's claims about twice over (`groups` and `claims.groups`) as V8 strings, arrays
 * and objects. Measured per token with 1 and 10 decisions: a 1,000-character token 2.6-3.7 KiB (estimated
 * 5.2-8.0), 150 groups (8,800 characters) 21 KiB (estimated 28-31), 250 groups (14,000) 33-35 KiB (43-46).
 */
const RECORD_OVERHEAD_BYTES = 2048;
const PRINCIPAL_BYTES_PER_TOKEN_CHAR = 3;
const ANSWER_OVERHEAD_BYTES = 256;

/** The measured estimate both the server's decision cache and the client's local cache use. */
export const measuredByteEstimate: ByteEstimate = {
  record: (tokenLength) => RECORD_OVERHEAD_BYTES + PRINCIPAL_BYTES_PER_TOKEN_CHAR * tokenLength,
  // Strings are UTF-16 in V8: two bytes a character.
  answer: (question, answer) => ANSWER_OVERHEAD_BYTES + 2 * (question.length + answer.rule.length + (answer.message?.length ?? 0)),
};
