/**
 * A message's bytes, encoded once per object by the plain protobufjs encoder and then reused: for the parts of a
 * response that are the same on every answer about one verified token (its principal, Envoy's identity headers and
 * dynamic metadata). Held in a WeakMap, so the bytes live exactly as long as the object they encode, which the
 * caches hold no longer than its token.
 */
import type protobuf from 'protobufjs';

export function preparedBytes<T extends object>(type: protobuf.Type): (message: T) => Uint8Array {
  const prepared = new WeakMap<T, Uint8Array>();
  return (message) => {
    let bytes = prepared.get(message);
    if (!bytes) {
      bytes = type.encode(type.fromObject(message as Record<string, unknown>)).finish();
      prepared.set(message, bytes);
    }
    return bytes;
  };
}
