/**
 * The world the hostile corpus runs in: a loopback OIDC issuer whose keys the test holds, a loopback Entra server
 * (Microsoft's captured documents and key sets), and two gatehouses on them. `main` trusts the OIDC issuer, one
 * Entra tenant for v2 tokens only and a second tenant for v1 tokens only; `org` is an `organizations` API that
 * accepts one tenant. The same rules everywhere: a reader (role Orders.Read) may `GET /orders/*`, and
 * `orders:approve` when its attribute `tenant` is `contoso`.
 */
import { startTestGatehouse, type TestGatehouse } from '../helpers/gatehouse.js';
import { startEntraServer, type EntraServer } from '../helpers/entra-server.js';
import { LOOPBACK_AUDIENCE, startLoopbackIssuer, type LoopbackIssuer } from '../verification/loopback-issuer.js';
import type { Door, DoorAnswer, Question } from './doors.js';

export const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
/** The tenant `main` accepts v1 tokens from (and only v1). */
export const TENANT_V1 = 'aaaaaaaa-1111-4111-8111-aaaaaaaaaaaa';
export const OTHER_TENANT = 'bbbbbbbb-2222-4222-8222-bbbbbbbbbbbb';
export const ENTRA_AUDIENCE = 'api://gatehouse-orders';
export const TOKEN_MAX_BYTES = 16_384;

export const RULES = [
  { id: 'orders-read', actions: ['GET /orders/*'], any_roles: ['Orders.Read'] },
  { id: 'admin', actions: ['GET /admin', 'GET /admin/*'], any_roles: ['Orders.Admin'] },
  // For the attributes property: allowed only for the tenant the condition names.
  { id: 'approve', actions: ['orders:approve'], any_roles: ['Orders.Read'], when: 'attributes["tenant"] == "contoso"' },
];

export type Gate = 'main' | 'org';

export interface World {
  readonly issuer: LoopbackIssuer;
  readonly entra: EntraServer;
  /** A valid OIDC token of a reader: allowed `GET /orders/42` on every door. */
  readonly reader: string;
  /** Claims of `reader`, for tokens built by hand. */
  claims(extra?: Record<string, unknown>): Record<string, unknown>;
  readonly gates: Record<Gate, TestGatehouse>;
}

export async function startWorld(): Promise<World> {
  const [issuer, entra] = await Promise.all([startLoopbackIssuer(), startEntraServer()]);
  const entraIssuer = (id: string, tenant: string, version: 1 | 2, extra: Record<string, unknown> = {}) => ({
    id,
    type: 'entra',
    authority: entra.base,
    tenant,
    token_versions: [version],
    audiences: [ENTRA_AUDIENCE],
    ...extra,
  });
  const common = { rules: RULES, tokens: { max_bytes: TOKEN_MAX_BYTES } };
  const [main, org] = await Promise.all([
    startTestGatehouse(
      {
        ...common,
        issuers: [
          { id: 'idp', type: 'oidc', issuer: issuer.issuer, audiences: [LOOPBACK_AUDIENCE], algorithms: ['RS256', 'ES256'] },
          entraIssuer('entra', TENANT, 2),
          entraIssuer('entra-v1', TENANT_V1, 1),
        ],
      },
      { level: 'info' },
    ),
    startTestGatehouse(
      { ...common, issuers: [entraIssuer('entra-org', 'organizations', 2, { allowed_tenants: [TENANT] })] },
      { level: 'info' },
    ),
  ]);
  const claims = (extra: Record<string, unknown> = {}) => {
    const now = Math.floor(Date.now() / 1000);
    return {
      iss: issuer.issuer,
      sub: 'alice',
      aud: LOOPBACK_AUDIENCE,
      iat: now,
      nbf: now,
      exp: now + 3600,
      roles: ['Orders.Read'],
      ...extra,
    };
  };
  return { issuer, entra, reader: issuer.token({ claims: claims() }), claims, gates: { main, org } };
}

export async function stopWorld(world: World | undefined): Promise<void> {
  if (!world) return;
  await Promise.all(Object.values(world.gates).map((gh) => gh.close()));
  await Promise.all([world.issuer.close(), world.entra.close()]);
}

/** One crafted request and what every door must answer it. */
export interface HostileCase {
  readonly id: string;
  readonly gate?: Gate;
  /** The request; built once, against the running world. */
  readonly build: (world: World) => Question | Promise<Question>;
  /** What every door answers (a reason, or a door's own refusal such as `grpc:INVALID_ARGUMENT`), unless `doors` says otherwise. */
  readonly expect: string;
  readonly doors?: Partial<Record<Door, string>>;
}

/** `GET /orders/42` with one `Authorization: Bearer <token>` line. */
export function bearer(token: string, extra: Partial<Question> = {}): Question {
  return { authorization: [`Bearer ${token}`], method: 'GET', path: '/orders/42', ...extra };
}

/** What the door must answer, for the failure message too. */
export function expected(c: HostileCase, door: Door): string {
  return c.doors?.[door] ?? c.expect;
}

export type { DoorAnswer };
