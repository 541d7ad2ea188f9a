/**
 * The ONE place the client library turns a refusal into a gRPC status, for both interceptors. The reason
 * travels twice: in trailing metadata `gatehouse-reason` (for programs) and at the front of the status details
 * (for people). Anything unexpected stays generic.
 */
import { Metadata, status, type StatusObject } from '@grpc/grpc-js';
import type { Denied } from './decision.js';
import { isClientError } from './errors.js';

export const REASON_METADATA_KEY = 'gatehouse-reason';
/** A denial's challenge (gatehouse's `Denial.challenge`) travels in this trailer, as HTTP would send it. */
export const CHALLENGE_METADATA_KEY = 'www-authenticate';

/** Reasons of refusals made without a decision from gatehouse (beside gatehouse.v1.Reason's names). */
export type LocalReason = 'GATEHOUSE_UNAVAILABLE' | 'GATEHOUSE_ERROR' | 'TOKEN_UNAVAILABLE' | 'TOKEN_MISSING';

const CODE_OF_KIND = { token: status.UNAUTHENTICATED, policy: status.PERMISSION_DENIED, unavailable: status.UNAVAILABLE } as const;

/** gatehouse said no. */
export function deniedStatus(decision: Denied): StatusObject {
  const status = refusal(CODE_OF_KIND[decision.kind], decision.reason, decision.message);
  if (decision.challenge) status.metadata.set(CHALLENGE_METADATA_KEY, decision.challenge);
  return status;
}

/** gatehouse could not be asked, or did not answer: fail closed. Callers see one status for every way it failed. */
export function gatehouseFailureStatus(err: unknown): StatusObject {
  if (
    isClientError(err, 'ERR_GATEHOUSE_UNREACHABLE') ||
    isClientError(err, 'ERR_GATEHOUSE_TIMEOUT') ||
    isClientError(err, 'ERR_GATEHOUSE_UNAVAILABLE')
  ) {
    return refusal(
      status.UNAVAILABLE,
      'GATEHOUSE_UNAVAILABLE',
      'gatehouse could not be reached or did not answer in time; the call was refused (fail closed)',
    );
  }
  if (isClientError(err, 'ERR_CLIENT_CLOSED')) {
    return refusal(status.UNAVAILABLE, 'GATEHOUSE_UNAVAILABLE', 'the authorization client is closed; the call was refused (fail closed)');
  }
  return refusal(status.UNAVAILABLE, 'GATEHOUSE_ERROR', 'the authorization check failed; the call was refused (fail closed)');
}

/** The client interceptor could not get a token to send. The status stays in this process. */
export function tokenFailureStatus(err: unknown): StatusObject {
  if (isClientError(err, 'ERR_NO_INCOMING_TOKEN')) return refusal(status.UNAUTHENTICATED, 'TOKEN_MISSING', err.message);
  if (isClientError(err, 'ERR_TOKEN_ENDPOINT_UNAVAILABLE')) return refusal(status.UNAVAILABLE, 'TOKEN_UNAVAILABLE', err.message);
  if (isClientError(err)) return refusal(status.UNAUTHENTICATED, 'TOKEN_UNAVAILABLE', err.message);
  return refusal(status.UNAUTHENTICATED, 'TOKEN_UNAVAILABLE', 'the token provider failed; the call was not sent');
}

/** The reason a refused call carries, read from its status metadata (`err.metadata` of a ServiceError). */
export function reasonOf(err: { readonly metadata?: Metadata | undefined }): string | undefined {
  const value = err.metadata?.get(REASON_METADATA_KEY)[0];
  return typeof value === 'string' ? value : undefined;
}

function refusal(code: status, reason: string, message: string): StatusObject {
  const metadata = new Metadata();
  metadata.set(REASON_METADATA_KEY, reason);
  return { code, details: `${reason}: ${message}`, metadata };
}
