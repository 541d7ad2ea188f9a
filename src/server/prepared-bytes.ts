/**
 * A message's bytes, encoded once per object by the plain protobufjs encoder and then reused: for the parts of a
 * response that are the same on every answer about one verified token (Envoy's identity headers and dynamic metadata;
 * a principal's bytes have their own writer, prepared-responses.ts). Held in a WeakMap, so the bytes live exactly as
 * long as the object they encode, which the caches hold no longer than its token. What they add per cached principal
 * (about one byte per token character) is within the margin of the cache's byte estimate (cache-bytes.ts: measured
 * 2.6-3.7 KiB for a 1,000-character token against 5.2-8.0 estimated).
 */
import type protobuf from 'protobufjs';

export function preparedBytes<T extends object>(type: protobuf.Type): (message: T) => Uint8Array {
  const prepared = new WeakMap<T, Uint8Array>();
  return (message) => {
    let bytes = prepared.get(message);
    if (!bytes) {
      // Copied into a buffer of its own: protobufjs's small buffers are slices of Node's shared 8 KiB pool, and a
      // long-lived slice would keep its whole slab alive (up to 8 KiB per cached principal instead of its size).
      bytes = new Uint8Array(type.encode(type.fromObject(message as Record<string, unknown>)).finish());
      prepared.set(message, bytes);
    }
    return bytes;
  };
}
