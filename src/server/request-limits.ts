/**
 * What a gatehouse.v1 request (or Envoy's CheckRequest) may hold, checked on its bytes BEFORE it is decoded. Decoding is where an
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

/** The fields a request may hold, per method: field number → [name, most occurrences]. Each is length-delimited. */
type FieldLimits = Readonly<Record<number, readonly [name: string, max: number]>>;

const ATTRIBUTES_FIELD = 3;
const LENGTH_DELIMITED = 2;
/** Room for a scalar field sent more than once (legal protobuf: the last one wins), never for thousands. */
const SCALAR_SLACK = 8;
const FIELDS: Readonly<Record<string, FieldLimits>> = {
  Verify: { 1: ['token', SCALAR_SLACK] },
  Authorize: { 1: ['token', SCALAR_SLACK], 2: ['action', SCALAR_SLACK], [ATTRIBUTES_FIELD]: ['attributes', MAX_ATTRIBUTES] },
  AuthorizeBatch: {
    1: ['token', SCALAR_SLACK],
    2: ['actions', MAX_BATCH_ACTIONS],
    [ATTRIBUTES_FIELD]: ['attributes', MAX_ATTRIBUTES],
  },
  // envoy.service.auth.v3.Authorization/Check: one nested AttributeContext. Its size is bounded here; its headers
  // are counted after decoding (envoy-request.ts), as the byte bound already caps what decoding them costs.
  Check: { 1: ['attributes', SCALAR_SLACK] },
};
/** Unknown fields (a newer client's) are skipped, up to this many. */
const MAX_UNKNOWN_FIELDS = SCALAR_SLACK;
/** The most bytes a map entry can take: its key and value at their limits, plus tags and lengths. */
const MAX_ATTRIBUTE_ENTRY_BYTES = MAX_ATTRIBUTE_KEY_BYTES + MAX_ATTRIBUTE_VALUE_BYTES + 16;

/** The refusal of bytes that are no valid request of their method (the message is the caller's to give). */
export const UNDECODABLE = Symbol('undecodable');

/**
 * Why the encoded request `bytes` of `method` must not be decoded: a message safe for the caller, or
 * {@link UNDECODABLE} when the bytes are no valid request at all; undefined when they may be decoded. `maxBytes` is
 * server.max_message_bytes. The walk is strict where the decoder is lenient (protobufjs reads a known field whatever
 * its wire type says), so the two can never disagree about where a field ends.
 */
export function refuseBeforeDecode(method: string, bytes: Uint8Array, maxBytes: number): string | typeof UNDECODABLE | undefined {
  if (bytes.length > maxBytes) {
    return `the request is ${bytes.length} bytes, over the limit of ${maxBytes} (server.max_message_bytes)`;
  }
  const fields = FIELDS[method];
  if (!fields) return UNDECODABLE;
  const counts = new Map<number, number>();
  let unknown = 0;
  const reader = protobuf.Reader.create(bytes);
  try {
    while (reader.pos < reader.len) {
      const tag = reader.uint32();
      const field = tag >>> 3;
      const limit = fields[field];
      if (!limit) {
        if (++unknown > MAX_UNKNOWN_FIELDS) return `the request holds more than ${MAX_UNKNOWN_FIELDS} unknown fields`;
        reader.skipType(tag & 7);
        continue;
      }
      if ((tag & 7) !== LENGTH_DELIMITED) return UNDECODABLE;
      const count = (counts.get(field) ?? 0) + 1;
      if (count > limit[1]) return `the request has more than ${limit[1]} ${limit[0]}`;
      counts.set(field, count);
      const length = reader.uint32();
      if (field === ATTRIBUTES_FIELD && length > MAX_ATTRIBUTE_ENTRY_BYTES) return attributeTooLarge();
      reader.skip(length);
    }
  } catch {
    return UNDECODABLE;
  }
  return undefined;
}

/** Why these decoded attributes are refused, or undefined: few enough, each name and value within its byte limit. */
export function refuseAttributes(attributes: Readonly<Record<string, string>>): string | undefined {
  // Counted on the bytes already; counted again here, so that no decoder quirk can widen the bound.
  if (Object.keys(attributes).length > MAX_ATTRIBUTES) return `the request has more than ${MAX_ATTRIBUTES} attributes`;
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
