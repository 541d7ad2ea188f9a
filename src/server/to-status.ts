/**
 * The ONE place that maps failures to gRPC status. Token and policy outcomes are not failures (they are
 * values in the response); only a failed call becomes a status. Anything unexpected stays generic: the
 * caller sees a fixed message, the log sees the error.
 */
import { Metadata, status, type ServiceError, type StatusObject } from '@grpc/grpc-js';

/** A request the server refuses to handle at all (not a token outcome). */
export class RequestError extends Error {
  override readonly name = 'RequestError';
  constructor(
    readonly code: 'INVALID_ARGUMENT' | 'UNAVAILABLE' | 'RESOURCE_EXHAUSTED',
    message: string,
  ) {
    super(message);
  }
}

export const INTERNAL_MESSAGE = 'internal error in gatehouse; the call was not authorized';

export function toStatus(err: unknown): Partial<StatusObject> & { code: status; details: string } {
  if (err instanceof RequestError) return { code: status[err.code], details: err.message, metadata: new Metadata() };
  return { code: status.INTERNAL, details: INTERNAL_MESSAGE, metadata: new Metadata() };
}

/** The same, shaped as the error a grpc-js unary callback takes. */
export function toServiceError(err: unknown): Partial<ServiceError> {
  const s = toStatus(err);
  return { code: s.code, details: s.details, message: s.details, metadata: s.metadata ?? new Metadata() };
}
