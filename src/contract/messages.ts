/**
 * The wire shapes of gatehouse.v1 as @grpc/proto-loader presents them (camelCase fields, enums as strings,
 * int64 as numbers). Shared by the server adapters and the client library.
 */
import type { WireReason } from './reasons.js';

export interface WireTimestamp {
  seconds: number;
  nanos: number;
}

export interface WireDuration {
  seconds: number;
  nanos: number;
}

/** google.protobuf.Struct as proto-loader encodes it. */
export interface WireStruct {
  fields: Record<string, WireValue>;
}

export type WireValue =
  | { nullValue: 'NULL_VALUE' }
  | { numberValue: number }
  | { stringValue: string }
  | { boolValue: boolean }
  | { structValue: WireStruct }
  | { listValue: { values: WireValue[] } };

export interface WirePrincipal {
  issuer: string;
  issuerId: string;
  subject: string;
  tenantId: string;
  objectId: string;
  clientId: string;
  roles: string[];
  scopes: string[];
  groups: string[];
  appOnly: boolean;
  expiresAt: WireTimestamp | null;
  tokenVersion: string;
  claims: WireStruct | null;
  groupsOverage: boolean;
}

export interface WireDenial {
  reason: WireReason;
  message: string;
  /** A WWW-Authenticate value (a claims challenge); '' or absent when there is none. */
  challenge?: string;
}

export interface VerifyRequest {
  token: string;
}

export interface VerifyResponse {
  valid: boolean;
  principal: WirePrincipal | null;
  denial: WireDenial | null;
}

export interface AuthorizeRequest {
  token: string;
  action: string;
  attributes: Record<string, string>;
}

export interface AuthorizeResponse {
  allowed: boolean;
  principal: WirePrincipal | null;
  denial: WireDenial | null;
  rule: string;
  cacheFor: WireDuration | null;
}

export interface AuthorizeBatchRequest {
  token: string;
  actions: string[];
  attributes: Record<string, string>;
}

export interface AuthorizeBatchResponse {
  results: AuthorizeResponse[];
}
