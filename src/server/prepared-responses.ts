/**
 * AuthService responses encoded around prepared principal bytes. A principal (every claim as a Struct) is most of
 * a response's bytes and most of its encoding cost: the handlers turn the engine's Principal into its bytes
 * ({@link preparePrincipal}: written straight from it, principal-writer.ts), once per principal served from a cache,
 * whose bytes are then reused for every answer about that token. The per-call fields (allowed, rule, denial,
 * cache_for) are written around them, in field-number order, each written when present (not null) exactly as
 * protobufjs's own encoder writes it, so the bytes are the plain encoder's bytes for the same response with the
 * principal in its wire form (test/server/prepared-responses.test.ts proves it). Kept bytes live as long as the
 * Principal object, which lives as long as the cached principal: never past its token.
 */
import type { ServiceDefinition } from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import type { Principal } from '../contract/principal.js';
import { principalBytes } from './principal-writer.js';
import type { AuthorizeResponse, VerifyResponse, WireDenial, WireDuration, WirePrincipal } from '../contract/messages.js';

/** A response as the handlers build it: the principal already as its bytes ({@link preparePrincipal}). */
export type Prepared<T extends { principal: WirePrincipal | null }> = Omit<T, 'principal'> & { readonly principal: Uint8Array | null };
export type PreparedAuthorizeResponse = Prepared<AuthorizeResponse>;
export type PreparedVerifyResponse = Prepared<VerifyResponse>;
export interface PreparedAuthorizeBatchResponse {
  readonly results: readonly PreparedAuthorizeResponse[];
}

const kept = new WeakMap<Principal, Uint8Array>();

/**
 * The principal's gatehouse.v1.Principal bytes. `keep` (a principal served from the cache, which will be answered
 * about again): written once and remembered for as long as the object lives. Otherwise written and not remembered:
 * for a token seen once, a WeakMap entry costs more garbage collection (~1.9 µs, measured) than it could ever save.
 */
export function preparePrincipal(principal: Principal, keep: boolean): Uint8Array {
  if (!keep) return kept.get(principal) ?? principalBytes(principal);
  let bytes = kept.get(principal);
  if (!bytes) {
    // Copied into a buffer of its own: protobufjs's small buffers are slices of Node's shared 8 KiB pool, and a
    // long-lived slice would keep its whole slab alive (up to 8 KiB per cached principal instead of its size).
    bytes = new Uint8Array(principalBytes(principal));
    kept.set(principal, bytes);
  }
  return bytes;
}

/** protobuf tags: field number << 3 | wire type (0 varint, 2 length-delimited). */
const TAG = { first: 1 << 3, principal: (2 << 3) | 2, denial: (3 << 3) | 2, rule: (4 << 3) | 2, cacheFor: (5 << 3) | 2 } as const;
const DURATION_SECONDS = 1 << 3;
const DURATION_NANOS = 2 << 3;
const BATCH_RESULTS = (1 << 3) | 2;

export interface ResponseEncoders {
  readonly Verify: (response: PreparedVerifyResponse) => Buffer;
  readonly Authorize: (response: PreparedAuthorizeResponse) => Buffer;
  readonly AuthorizeBatch: (response: PreparedAuthorizeBatchResponse) => Buffer;
}

/** Encoders of the three AuthService responses; `types` is the contract as protobufjs types (loadGatehouseTypes). */
export function responseEncoders(types: protobuf.Root): ResponseEncoders {
  const denialType = types.lookupType('gatehouse.v1.Denial');
  const writeCommon = (writer: protobuf.Writer, principal: Uint8Array | null | undefined, denial: WireDenial | null | undefined) => {
    if (principal != null) writer.uint32(TAG.principal).bytes(principal);
    // A denial is a few short strings; the plain encoder is cheap enough for it.
    if (denial != null) writer.uint32(TAG.denial).bytes(denialType.encode(denialType.fromObject(denial)).finish());
  };
  const writeAuthorize = (writer: protobuf.Writer, response: PreparedAuthorizeResponse) => {
    if (response.allowed != null) writer.uint32(TAG.first).bool(response.allowed);
    writeCommon(writer, response.principal, response.denial);
    if (response.rule != null) writer.uint32(TAG.rule).string(response.rule);
    if (response.cacheFor != null) writeDuration(writer.uint32(TAG.cacheFor).fork(), response.cacheFor).ldelim();
  };
  return {
    Verify(response) {
      const writer = protobuf.Writer.create();
      if (response.valid != null) writer.uint32(TAG.first).bool(response.valid);
      writeCommon(writer, response.principal, response.denial);
      return writer.finish() as Buffer;
    },
    Authorize(response) {
      const writer = protobuf.Writer.create();
      writeAuthorize(writer, response);
      return writer.finish() as Buffer;
    },
    AuthorizeBatch(response) {
      const writer = protobuf.Writer.create();
      for (const result of response.results ?? []) {
        writeAuthorize(writer.uint32(BATCH_RESULTS).fork(), result);
        writer.ldelim();
      }
      return writer.finish() as Buffer;
    },
  };
}

function writeDuration(writer: protobuf.Writer, duration: WireDuration): protobuf.Writer {
  if (duration.seconds != null) writer.uint32(DURATION_SECONDS).int64(duration.seconds);
  if (duration.nanos != null) writer.uint32(DURATION_NANOS).int32(duration.nanos);
  return writer;
}

/** The AuthService definition with its responses encoded by `encoders` (requests decode as before). */
export function withPreparedResponses(service: ServiceDefinition, encoders: ResponseEncoders): ServiceDefinition {
  const methods: Record<string, ServiceDefinition[string]> = { ...service };
  for (const name of ['Verify', 'Authorize', 'AuthorizeBatch'] as const) {
    const method = service[name];
    if (method) methods[name] = { ...method, responseSerialize: encoders[name] as (value: unknown) => Buffer };
  }
  return methods as ServiceDefinition;
}
