/**
 * Every AuthService request passes here before a handler sees it, as bytes. Two jobs:
 * - limits first: a request over server.max_message_bytes, or repeating a field past its bound (request-limits.ts),
 *   is refused without being decoded, so no request can spend the server's CPU and heap on decoding;
 * - grpc-js answers INTERNAL when a request's bytes do not decode, before any handler runs, and INTERNAL is ours to
 *   mean "a bug". Undecodable bytes become a refusal too, answered INVALID_ARGUMENT.
 * The handlers answer a refusal with INVALID_ARGUMENT and its message.
 */
import type { ServiceDefinition } from '@grpc/grpc-js';
import { refuseBeforeDecode, UNDECODABLE } from './request-limits.js';

/** What a request refused before decoding becomes; `message` is safe for the caller. */
export class RefusedRequest {
  constructor(readonly message: string) {}
}

/** The refusal of a request that never decoded, or undefined for a decoded request. */
export function refusalOf(request: unknown): string | undefined {
  return request instanceof RefusedRequest ? request.message : undefined;
}

export function tolerantService(service: ServiceDefinition, maxMessageBytes: number, protoPackage: string): ServiceDefinition {
  const methods: Record<string, ServiceDefinition[string]> = {};
  for (const [name, method] of Object.entries(service)) {
    const decode = method.requestDeserialize;
    const undecodable = new RefusedRequest(`the request is not a valid ${protoPackage}.${name}Request`);
    methods[name] = {
      ...method,
      requestDeserialize: (bytes: Buffer) => {
        const refusal = refuseBeforeDecode(name, bytes, maxMessageBytes);
        if (refusal === UNDECODABLE) return undecodable;
        if (refusal) return new RefusedRequest(refusal);
        try {
          return decode(bytes);
        } catch {
          return undecodable;
        }
      },
    };
  }
  return methods as ServiceDefinition;
}
