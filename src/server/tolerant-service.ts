/**
 * grpc-js answers INTERNAL when a request's bytes do not decode, before any handler runs; INTERNAL is ours to mean
 * "a bug". Wrapping each method's deserializer turns undecodable bytes into a marker the handlers refuse with
 * INVALID_ARGUMENT, so garbage from a client never looks like a gatehouse fault on dashboards.
 */
import type { ServiceDefinition } from '@grpc/grpc-js';

/** What a request that did not decode becomes. */
export const UNDECODABLE = Object.freeze({ undecodable: true as const });

export function isUndecodable(request: unknown): boolean {
  return request === UNDECODABLE;
}

export function tolerantService(service: ServiceDefinition): ServiceDefinition {
  const methods: Record<string, ServiceDefinition[string]> = {};
  for (const [name, method] of Object.entries(service)) {
    const decode = method.requestDeserialize;
    methods[name] = {
      ...method,
      requestDeserialize: (bytes: Buffer) => {
        try {
          return decode(bytes);
        } catch {
          return UNDECODABLE;
        }
      },
    };
  }
  return methods as ServiceDefinition;
}
