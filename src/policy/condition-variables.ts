/**
 * The variables a `when` condition sees, declared once for the type checker, and the one place their values are
 * built for an evaluation. Maps are `Map`s, so a key such as `constructor` is never read off a prototype.
 *
 *   principal   subject, issuer_id, tenant_id, object_id, client_id (strings; '' when the token has none),
 *               roles, scopes, groups (lists of strings), app_only (bool), claims (every claim, dyn)
 *   action      the action asked about
 *   attributes  map<string, string>: the request's attributes (Authorize; Envoy's context_extensions)
 *   request     method, path, host, headers (map<string, string>, lower-cased names, never `authorization`):
 *               the HTTP request at the Envoy and forward-auth doors; '' and an empty map for the RPCs
 *   params      map<string, string>: the named segments of the pattern that matched
 *   now         timestamp: the time of the decision
 */
import type { Environment } from '@marcbachmann/cel-js';
import type { Principal } from '../contract/principal.js';

export const CONDITION_VARIABLES = ['principal', 'action', 'attributes', 'request', 'params', 'now'] as const;
export type ConditionVariable = (typeof CONDITION_VARIABLES)[number];

/** The HTTP request a door saw (Envoy, forward auth). `headers`: lower-cased names, without `authorization`. */
export interface RequestFacts {
  readonly method: string;
  readonly path: string;
  readonly host: string;
  readonly headers: ReadonlyMap<string, string>;
}

/**
 * What a door knows about a call beyond the token and action. `request` is a function so that a door builds it
 * only when a condition reads it.
 */
export interface Facts {
  readonly attributes?: Readonly<Record<string, string>>;
  readonly request?: () => RequestFacts;
}

/** The activation of one evaluation, as the CEL program reads it. */
export interface ConditionInput {
  readonly principal: CelPrincipal;
  readonly action: string;
  readonly attributes: ReadonlyMap<string, string>;
  readonly request: RequestFacts;
  readonly params: ReadonlyMap<string, string>;
  readonly now: Date;
}

interface CelPrincipal {
  readonly subject: string;
  readonly issuer_id: string;
  readonly tenant_id: string;
  readonly object_id: string;
  readonly client_id: string;
  readonly roles: readonly string[];
  readonly scopes: readonly string[];
  readonly groups: readonly string[];
  readonly app_only: boolean;
  readonly claims: Readonly<Record<string, unknown>>;
}

const EMPTY_MAP: ReadonlyMap<string, string> = Object.freeze(new Map<string, string>());
const NO_REQUEST: RequestFacts = Object.freeze({ method: '', path: '', host: '', headers: EMPTY_MAP });

/** Declares the variables on `env` (and returns it). */
export function declareConditionVariables(env: Environment): Environment {
  return env
    .registerVariable({
      name: 'principal',
      schema: {
        subject: 'string',
        issuer_id: 'string',
        tenant_id: 'string',
        object_id: 'string',
        client_id: 'string',
        roles: 'list<string>',
        scopes: 'list<string>',
        groups: 'list<string>',
        app_only: 'bool',
        claims: 'map<string, dyn>',
      },
    })
    .registerVariable('action', 'string')
    .registerVariable('attributes', 'map<string, string>')
    .registerVariable({ name: 'request', schema: { method: 'string', path: 'string', host: 'string', headers: 'map<string, string>' } })
    .registerVariable('params', 'map<string, string>')
    .registerVariable('now', 'google.protobuf.Timestamp');
}

/** The values for one evaluation; attributes and the request are built only when the condition `reads` them. */
export function conditionInput(
  reads: ReadonlySet<ConditionVariable>,
  principal: Principal,
  action: string,
  params: ReadonlyMap<string, string>,
  facts: Facts | undefined,
  nowMs: number,
): ConditionInput {
  return {
    principal: {
      subject: principal.subject,
      issuer_id: principal.issuerId,
      tenant_id: principal.tenantId,
      object_id: principal.objectId,
      client_id: principal.clientId,
      roles: principal.roles,
      scopes: principal.scopes,
      groups: principal.groups,
      app_only: principal.appOnly,
      claims: principal.claims,
    },
    action,
    attributes: reads.has('attributes') && facts?.attributes ? new Map(Object.entries(facts.attributes)) : EMPTY_MAP,
    request: (reads.has('request') && facts?.request?.()) || NO_REQUEST,
    params,
    now: new Date(nowMs),
  };
}
