/**
 * A Principal written straight into gatehouse.v1.Principal bytes, without the object trees the plain path builds
 * first (the wire form with its claims as a Struct, protobufjs's message objects, its writer's list of operations):
 * for a token seen once, that was most of its response's encoding cost and much of its garbage. One pass into a
 * reused scratch buffer: a nested message reserves one byte for its length and moves its content up when the length
 * needs more.
 *
 * The bytes are the plain encoder's (`type.encode(type.fromObject(toWirePrincipal(p)))`), byte for byte:
 * protobufjs writes every field a message object holds, defaults included, in field-number order; a Struct's members
 * in `Object.keys` order; a string's bytes with its own UTF-8 loop below 40 characters (a lone surrogate as three
 * bytes) and Node's (Buffer#write) above. An expiry that is not a whole number of seconds in the safe range goes the plain way
 * (test/server/principal-writer.test.ts compares them, on hostile claims too).
 */
import type { Principal } from '../contract/principal.js';
import { loadGatehouseTypes } from '../contract/proto.js';
import { toWirePrincipal } from '../contract/wire-principal.js';

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
/** protobufjs writes strings this short with its own loop (writer_buffer.js), longer ones with Buffer#utf8Write. */
const JS_UTF8_BELOW = 40;
/** protobufjs's util.recursionLimit: a message nested deeper is refused by its fromObject and encode, and its decode. */
const MAX_DEPTH = 100;
/** The scratch buffer's size; one grown past KEEP_BYTES for a huge principal is let go after it. */
const SCRATCH_BYTES = 16 * 1024;
const KEEP_BYTES = 64 * 1024;

let buf = Buffer.allocUnsafeSlow(SCRATCH_BYTES);
let pos = 0;
let plainType: ReturnType<ReturnType<typeof loadGatehouseTypes>['lookupType']> | undefined;

/** The principal's gatehouse.v1.Principal bytes, in a Buffer of Node's shared pool (copy it to keep it long). */
export function principalBytes(principal: Principal): Buffer {
  const seconds = Math.floor(principal.expiresAt);
  if (!(Number.isSafeInteger(seconds) && seconds >= 0)) {
    plainType ??= loadGatehouseTypes().lookupType('gatehouse.v1.Principal');
    return Buffer.from(plainType.encode(plainType.fromObject(toWirePrincipal(principal))).finish());
  }
  pos = 0;
  writePrincipal(principal, seconds);
  const out = Buffer.allocUnsafe(pos);
  buf.copy(out, 0, 0, pos);
  if (buf.length > KEEP_BYTES) buf = Buffer.allocUnsafeSlow(SCRATCH_BYTES);
  return out;
}

function writePrincipal(p: Principal, seconds: number): void {
  // Every field as the wire form holds it (wire-principal.ts), each written, defaults included, as protobufjs writes a
  // message fromObject built: a string field that is absent (a `ver` an issuer left out) is not written.
  optionalString(P.issuer, p.issuer);
  optionalString(P.issuerId, p.issuerId);
  optionalString(P.subject, p.subject);
  optionalString(P.tenantId, p.tenantId);
  optionalString(P.objectId, p.objectId);
  optionalString(P.clientId, p.clientId);
  for (const role of p.roles) string(P.roles, String(role));
  for (const scope of p.scopes) string(P.scopes, String(scope));
  for (const group of p.groups) string(P.groups, String(group));
  varint(P.appOnly);
  varint(p.appOnly ? 1 : 0);
  const timestamp = open(P.expiresAt);
  varint(TIMESTAMP_SECONDS);
  varint53(seconds);
  varint(TIMESTAMP_NANOS);
  varint(0);
  close(timestamp);
  optionalString(P.tokenVersion, p.tokenVersion);
  const claims = open(P.claims);
  struct(p.claims, 1);
  close(claims);
  varint(P.groupsOverage);
  varint(p.groupsOverage ? 1 : 0);
}

/**
 * A Struct at message depth `depth` (the Principal is 0), its members' Values one deeper. Past MAX_DEPTH the plain
 * path throws, and so does this (claims nested ~50 JSON levels deep): bytes no protobufjs reader would decode.
 */
function struct(object: Readonly<Record<string, unknown>>, depth: number): void {
  if (depth > MAX_DEPTH) throw new Error('maximum nesting depth exceeded');
  for (const key of Object.keys(object)) {
    // A "__proto__" member (JSON.parse keeps it as an own one) never reached the plain path's Struct: assigning it
    // set the prototype of the fields object instead. Left out here alike, so no reader rebuilds it as a prototype.
    if (key === '__proto__') continue;
    const entry = open(STRUCT_FIELD);
    string(ENTRY_KEY, key);
    const value = open(ENTRY_VALUE);
    valueOf(object[key], depth + 1);
    close(value);
    close(entry);
  }
}

/**
 * As struct.ts toValue, then protobufjs: a Value holds exactly one kind. A Value's depth is even (its Struct or
 * ListValue odd), so the limit falls on those, checked where they open.
 */
function valueOf(value: unknown, depth: number): void {
  if (value === null || value === undefined) {
    varint(VALUE.null);
    varint(0);
  } else if (typeof value === 'number') {
    varint(VALUE.number);
    ensure(8);
    buf.writeDoubleLE(value, pos);
    pos += 8;
  } else if (typeof value === 'string') string(VALUE.string, value);
  else if (typeof value === 'boolean') {
    varint(VALUE.bool);
    varint(value ? 1 : 0);
  } else if (Array.isArray(value)) {
    // A ListValue one deeper than its Value, and its items one deeper again.
    if (depth + 1 > MAX_DEPTH) throw new Error('maximum nesting depth exceeded');
    const list = open(VALUE.list);
    for (const item of value) {
      const entry = open(LIST_VALUES);
      valueOf(item, depth + 2);
      close(entry);
    }
    close(list);
  } else if (typeof value === 'object') {
    const nested = open(VALUE.struct);
    struct(value as Record<string, unknown>, depth + 1);
    close(nested);
  } else string(VALUE.string, String(value));
}

function optionalString(tag: number, value: string | null | undefined): void {
  // String(): a claim the principal took as it came (Entra's `ver`) may be another JSON type, as fromObject converts it.
  if (value != null) string(tag, String(value));
}

function string(tag: number, value: string): void {
  // At most three bytes per UTF-16 unit; its length written after it, as a nested message's.
  ensure(value.length * 3 + 10);
  const start = open(tag);
  if (value.length >= JS_UTF8_BELOW) pos += buf.write(value, pos);
  else utf8(value);
  close(start);
}

/** protobufjs's own UTF-8 loop (@protobufjs/utf8 write), for its bytes: a lone surrogate as three bytes. */
function utf8(value: string): void {
  // Locals, not the module's bindings, in the loop: each of those is a context slot read (and written) per byte.
  const b = buf;
  let at = pos;
  for (let i = 0; i < value.length; i++) {
    let c = value.charCodeAt(i);
    if (c < 0x80) b[at++] = c;
    else if (c < 0x800) {
      b[at++] = (c >> 6) | 0xc0;
      b[at++] = (c & 0x3f) | 0x80;
    } else if ((c & 0xfc00) === 0xd800 && (value.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      c = 0x10000 + ((c & 0x03ff) << 10) + (value.charCodeAt(++i) & 0x03ff);
      b[at++] = (c >> 18) | 0xf0;
      b[at++] = ((c >> 12) & 0x3f) | 0x80;
      b[at++] = ((c >> 6) & 0x3f) | 0x80;
      b[at++] = (c & 0x3f) | 0x80;
    } else {
      b[at++] = (c >> 12) | 0xe0;
      b[at++] = ((c >> 6) & 0x3f) | 0x80;
      b[at++] = (c & 0x3f) | 0x80;
    }
  }
  pos = at;
}

/** A length-delimited field begins: its tag, and one byte reserved for its length. Returns where the content starts. */
function open(tag: number): number {
  varint(tag);
  ensure(1);
  pos += 1;
  return pos;
}

/** The field opened at `start` ends here: its length written before it, the content moved up if that takes more than a byte. */
function close(start: number): void {
  const length = pos - start;
  if (length < 0x80) {
    buf[start - 1] = length;
    return;
  }
  const extra = varintSize(length) - 1;
  ensure(extra);
  buf.copyWithin(start + extra, start, pos);
  pos += extra;
  let at = start - 1;
  let v = length;
  while (v > 0x7f) {
    buf[at++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  buf[at] = v;
}

function varint(value: number): void {
  ensure(5);
  let v = value >>> 0;
  while (v > 0x7f) {
    buf[pos++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  buf[pos++] = v;
}

/** A whole number 0 <= value < 2^53, as protobuf's varint (an int64 field). */
function varint53(value: number): void {
  ensure(10);
  let v = value;
  while (v > 0x7f) {
    buf[pos++] = (v % 0x80) | 0x80;
    v = Math.floor(v / 0x80);
  }
  buf[pos++] = v;
}

function varintSize(value: number): number {
  return value < 0x80 ? 1 : value < 0x4000 ? 2 : value < 0x200000 ? 3 : value < 0x10000000 ? 4 : 5;
}

function ensure(bytes: number): void {
  if (pos + bytes <= buf.length) return;
  const grown = Buffer.allocUnsafeSlow(Math.max(buf.length * 2, pos + bytes));
  buf.copy(grown, 0, 0, pos);
  buf = grown;
}
