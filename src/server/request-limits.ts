/**
 * What a gatehouse.v1 request may hold, checked on its bytes BEFORE it is decoded. Decoding is where an
 * oversized request costs: half a million empty map entries in 4 MiB take ~660 ms of CPU and ~170 MB of heap to
 * decode, so counting them afterwards is too late. The walk here reads only field tags and lengths (protobufjs's
 * Reader, which proto-loader decodes with), allocates nothing per field, and stops at the first limit crossed.
 */
import protobuf from 'protobufjs';

/** The longest action a request may name, in characters. */
export const MAX_ACTION_LENGTH = 1024;
/** Actions per AuthorizeBatch. */
export const MAX_BATCH_ACTIONS = 100;
/** Entries of a request's `attributes` map. */
export const MAX_ATTRIBUTES = 64;
/** Bytes (UTF-8) of one attribute's name. */
export const MAX_ATTRIBUTE_KEY_BYTES = 256;
/** Bytes (UTF-8) of one attribute's value. */
export const MAX_ATTRIBUTE_VALUE_BYTES = 4096;

/** Fields a request may repeat, per method: field number → [name, most occurrences]. */
type RepeatedLimits = Readonly<Record<number, readonly [name: string, max: number]>>;

const ATTRIBUTES_FIELD = 3;
const REPEATED: Readonly<Record<string, RepeatedLimits>> = {
  Verify: {},
  Authorize: { [ATTRIBUTES_FIELD]: ['attributes', MAX_ATTRIBUTES] },
  AuthorizeBatch: { 2: ['actions', MAX_BATCH_ACTIONS], [ATTRIBUTES_FIELD]: ['attributes', MAX_ATTRIBUTES] },
};
/** Room for a scalar field sent more than once (legal protobuf: the last one wins), never for thousands. */
const SCALAR_SLACK = 8;
/** The most bytes a map entry can take: its key and value at their limits, plus tags and lengths. */
const MAX_ATTRIBUTE_ENTRY_BYTES = MAX_ATTRIBUTE_KEY_BYTES + MAX_ATTRIBUTE_VALUE_BYTES + 16;

/**
 * Why the encoded request `bytes` of `method` must not be decoded, or undefined when it may be. `maxBytes` is
 * server.max_message_bytes. Bytes that are not protobuf at all are left to the decoder, which refuses them.
 */
export function refuseBeforeDecode(method: string, bytes: Uint8Array, maxBytes: number): string | undefined {
  if (bytes.length > maxBytes) {
    return `the request is ${bytes.length} bytes, over the limit of ${maxBytes} (server.max_message_bytes)`;
  }
  const repeated = REPEATED[method] ?? {};
  const counts = new Map<number, number>();
  let fields = 0;
  let maxFields = SCALAR_SLACK;
  for (const [, max] of Object.values(repeated)) maxFields += max;
  const reader = protobuf.Reader.create(bytes);
  try {
    while (reader.pos < reader.len) {
      const tag = reader.uint32();
      const field = tag >>> 3;
      const limit = repeated[field];
      if (limit) {
        const count = (counts.get(field) ?? 0) + 1;
        if (count > limit[1]) return `the request has more than ${limit[1]} ${limit[0]}`;
        counts.set(field, count);
      }
      if (++fields > maxFields) return `the request repeats its fields more than ${maxFields} times`;
      if (field === ATTRIBUTES_FIELD && limit && (tag & 7) === 2) {
        const length = reader.uint32();
        if (length > MAX_ATTRIBUTE_ENTRY_BYTES) return attributeTooLarge();
        reader.skip(length);
      } else {
        reader.skipType(tag & 7);
      }
    }
  } catch {
    // Not protobuf: the decoder refuses it with the message every undecodable request gets.
  }
  return undefined;
}

/** Why these decoded attributes are refused, or undefined: each name and value within its byte limit. */
export function refuseAttributes(attributes: Readonly<Record<string, string>>): string | undefined {
  for (const [key, value] of Object.entries(attributes)) {
    if (Buffer.byteLength(key, 'utf8') > MAX_ATTRIBUTE_KEY_BYTES || Buffer.byteLength(value, 'utf8') > MAX_ATTRIBUTE_VALUE_BYTES) {
      return attributeTooLarge();
    }
  }
  return undefined;
}

function attributeTooLarge(): string {
  return `an attribute is over its limit: names up to ${MAX_ATTRIBUTE_KEY_BYTES} bytes, values up to ${MAX_ATTRIBUTE_VALUE_BYTES}`;
}
