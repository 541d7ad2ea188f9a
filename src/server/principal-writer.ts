/**
 * A Principal written straight into gatehouse.v1.Principal bytes, without the two object trees the plain path
 * builds first (the wire form with its claims as a Struct, then protobufjs's message objects): for a token seen once,
 * that conversion was most of its response's encoding cost and much of its garbage. The bytes are the plain
 * encoder's (`type.encode(type.fromObject(toWirePrincipal(p)))`), field for field: protobufjs writes every field a
 * message object holds, defaults included, in field-number order, and a Struct's members in `Object.keys` order
 * (test/server/principal-writer.test.ts compares them, on hostile claims too).
 */
import protobuf from 'protobufjs';
import type { Principal } from '../contract/principal.js';

/** protobuf tags: field number << 3 | wire type (0 varint, 1 64-bit, 2 length-delimited). */
const P = {
  issuer: (1 << 3) | 2,
  issuerId: (2 << 3) | 2,
  subject: (3 << 3) | 2,
  tenantId: (4 << 3) | 2,
  objectId: (5 << 3) | 2,
  clientId: (6 << 3) | 2,
  roles: (7 << 3) | 2,
  scopes: (8 << 3) | 2,
  groups: (9 << 3) | 2,
  appOnly: 10 << 3,
  expiresAt: (11 << 3) | 2,
  tokenVersion: (12 << 3) | 2,
  claims: (13 << 3) | 2,
  groupsOverage: 14 << 3,
} as const;
const TIMESTAMP_SECONDS = 1 << 3;
const TIMESTAMP_NANOS = 2 << 3;
const STRUCT_FIELD = (1 << 3) | 2;
const ENTRY_KEY = (1 << 3) | 2;
const ENTRY_VALUE = (2 << 3) | 2;
const VALUE = { null: 1 << 3, number: (2 << 3) | 1, string: (3 << 3) | 2, bool: 4 << 3, struct: (5 << 3) | 2, list: (6 << 3) | 2 } as const;
const LIST_VALUES = (1 << 3) | 2;

/** The principal's gatehouse.v1.Principal bytes. */
export function principalBytes(principal: Principal): Uint8Array {
  return writePrincipal(protobuf.Writer.create(), principal).finish();
}

export function writePrincipal(w: protobuf.Writer, p: Principal): protobuf.Writer {
  // Every field as the wire form holds it (wire-principal.ts), each written, defaults included, as protobufjs writes a
  // message fromObject built: a string field that is absent (a `ver` an issuer left out) is not written.
  str(w, P.issuer, p.issuer);
  str(w, P.issuerId, p.issuerId);
  str(w, P.subject, p.subject);
  str(w, P.tenantId, p.tenantId);
  str(w, P.objectId, p.objectId);
  str(w, P.clientId, p.clientId);
  for (const role of p.roles) w.uint32(P.roles).string(role);
  for (const scope of p.scopes) w.uint32(P.scopes).string(scope);
  for (const group of p.groups) w.uint32(P.groups).string(group);
  w.uint32(P.appOnly).bool(p.appOnly);
  w.uint32(P.expiresAt).fork().uint32(TIMESTAMP_SECONDS).int64(Math.floor(p.expiresAt)).uint32(TIMESTAMP_NANOS).int32(0).ldelim();
  str(w, P.tokenVersion, p.tokenVersion);
  writeStruct(w.uint32(P.claims).fork(), p.claims).ldelim();
  w.uint32(P.groupsOverage).bool(p.groupsOverage);
  return w;
}

function str(w: protobuf.Writer, tag: number, value: string | undefined): void {
  // String(): a claim the principal took as it came (Entra's `ver`) may be another JSON type, as fromObject converts it.
  if (value != null) w.uint32(tag).string(String(value));
}

function writeStruct(w: protobuf.Writer, object: Readonly<Record<string, unknown>>): protobuf.Writer {
  for (const key of Object.keys(object)) {
    // A "__proto__" member (JSON.parse keeps it as an own one) never reached the plain path's Struct: assigning it
    // set the prototype of the fields object instead. Left out here alike, so no reader rebuilds it as a prototype.
    if (key === '__proto__') continue;
    w.uint32(STRUCT_FIELD).fork().uint32(ENTRY_KEY).string(key).uint32(ENTRY_VALUE).fork();
    writeValue(w, object[key]);
    w.ldelim().ldelim();
  }
  return w;
}

/** As struct.ts toValue, then protobufjs: a Value holds exactly one kind. */
function writeValue(w: protobuf.Writer, value: unknown): void {
  if (value === null || value === undefined) w.uint32(VALUE.null).int32(0);
  else if (typeof value === 'number') w.uint32(VALUE.number).double(value);
  else if (typeof value === 'string') w.uint32(VALUE.string).string(value);
  else if (typeof value === 'boolean') w.uint32(VALUE.bool).bool(value);
  else if (Array.isArray(value)) {
    w.uint32(VALUE.list).fork();
    for (const item of value) {
      w.uint32(LIST_VALUES).fork();
      writeValue(w, item);
      w.ldelim();
    }
    w.ldelim();
  } else if (typeof value === 'object') writeStruct(w.uint32(VALUE.struct).fork(), value as Record<string, unknown>).ldelim();
  else w.uint32(VALUE.string).string(String(value));
}
