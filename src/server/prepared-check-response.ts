/**
 * Envoy's CheckResponse encoded around prepared bytes: an allowed answer's identity headers and dynamic metadata are
 * the same on every answer about one cached principal (envoy-response.ts builds them once), so their bytes are
 * encoded once (prepared-bytes.ts); the per-call parts (the status, the headers to remove) are written around them
 * in field-number order, as protobufjs's own encoder writes them. The bytes are the plain encoder's bytes
 * (test/server/prepared-responses.test.ts). A denial goes through the plain encoder.
 */
import type { ServiceDefinition } from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import type { WireStruct } from '../contract/messages.js';
import type { WireCheckResponse } from './envoy-response.js';
import { preparedBytes } from './prepared-bytes.js';

/** protobuf tags: field number << 3 | wire type (0 varint, 2 length-delimited). */
const STATUS = (1 << 3) | 2;
const STATUS_CODE = 1 << 3;
const STATUS_MESSAGE = (2 << 3) | 2;
const OK_RESPONSE = (3 << 3) | 2;
const DYNAMIC_METADATA = (4 << 3) | 2;
const HEADERS_TO_REMOVE = (5 << 3) | 2;

type OkResponse = NonNullable<WireCheckResponse['okResponse']>;
type Headers = OkResponse['headers'];

/** The CheckResponse encoder; `types` is Envoy's ext_authz as protobufjs types (loadEnvoyAuthTypes). */
export function checkResponseEncoder(types: protobuf.Root): (response: WireCheckResponse) => Buffer {
  const checkResponse = types.lookupType('envoy.service.auth.v3.CheckResponse');
  const okType = types.lookupType('envoy.service.auth.v3.OkHttpResponse');
  const headersBytes = preparedBytes<{ headers: Headers }>(okType);
  const headersOf = new WeakMap<Headers, { headers: Headers }>();
  const structBytes = preparedBytes<WireStruct>(types.lookupType('google.protobuf.Struct'));
  const plain = (response: WireCheckResponse) => checkResponse.encode(checkResponse.fromObject(response)).finish() as Buffer;

  return (response) => {
    const ok = response.okResponse;
    if (!ok || response.deniedResponse || !response.dynamicMetadata || (response as { errorResponse?: unknown }).errorResponse) {
      return plain(response);
    }
    const writer = protobuf.Writer.create();
    const status = response.status;
    if (status != null) {
      writer.uint32(STATUS).fork();
      if (status.code != null) writer.uint32(STATUS_CODE).int32(status.code);
      if (status.message != null) writer.uint32(STATUS_MESSAGE).string(status.message);
      writer.ldelim();
    }
    // OkHttpResponse: the prepared headers (field 2), then this call's headers_to_remove (field 5).
    let wrapped = headersOf.get(ok.headers);
    if (!wrapped) {
      wrapped = { headers: ok.headers };
      headersOf.set(ok.headers, wrapped);
    }
    const prefix = headersBytes(wrapped);
    if (ok.headersToRemove.length === 0) writer.uint32(OK_RESPONSE).bytes(prefix);
    else {
      const tail = protobuf.Writer.create();
      for (const name of ok.headersToRemove) tail.uint32(HEADERS_TO_REMOVE).string(name);
      writer.uint32(OK_RESPONSE).bytes(Buffer.concat([prefix, tail.finish()]));
    }
    writer.uint32(DYNAMIC_METADATA).bytes(structBytes(response.dynamicMetadata));
    return writer.finish() as Buffer;
  };
}

/** Envoy's Authorization service with its CheckResponse encoded by `encode` (requests decode as before). */
export function withPreparedCheckResponse(service: ServiceDefinition, encode: (response: WireCheckResponse) => Buffer): ServiceDefinition {
  const check = service.Check;
  return (
    check ? { ...service, Check: { ...check, responseSerialize: encode as (value: unknown) => Buffer } } : service
  ) as ServiceDefinition;
}
