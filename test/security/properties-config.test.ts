// Property tests (fast-check, seeded: see fuzz-settings.ts), in process: any config file gets a Config or a clear
// error naming a key (never another exception), and any CEL expression in a rule is refused at load, naming
// rules[i].when, or compiled and evaluated safely (an allow, or CONDITION_NOT_MET; never a throw).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { stringify as toYaml } from 'yaml';
import { ConfigError, parseConfigText, validateConfig } from '../../src/config/load.js';
import type { Principal } from '../../src/contract/principal.js';
import { compilePolicy } from '../../src/decisions/create-authorizer.js';
import { authorize } from '../../src/policy/authorize.js';
import { PolicyError } from '../../src/policy/compile-rules.js';
import { fuzzParameters, FUZZ_SEED, runsOf } from './fuzz-settings.js';

const RUNS = 400;
const OIDC = { id: 'idp', type: 'oidc', issuer: 'https://idp.example.com', audiences: ['api'] };
const BASE = {
  server: { grpc: '127.0.0.1:0', http: '127.0.0.1:0', max_message_bytes: 65536, readiness: 'all' },
  issuers: [OIDC, { id: 'entra', type: 'entra', tenant: 'common', allowed_tenants: ['*'], audiences: ['api://x'] }],
  keys: { refresh_interval: '1h', unknown_kid_cooldown: '30s', max_stale: '24h', fetch_timeout: '5s' },
  tokens: { clock_skew: '60s', max_bytes: 16384 },
  groups: { 'c0ffee00-0000-4000-8000-000000000001': 'admins' },
  rules: [
    { id: 'read', actions: ['GET /orders/{id}'], any_roles: ['Orders.Read'], when: 'params.id != "0"' },
    { id: 'health', actions: ['* /health'], public: true },
  ],
  decisions: { max_ttl: '60s' },
  proxy: { forwarded_headers: 'any' },
};
/** Values of a few levels and members: deeper ones only cost time, the schema refuses them at the first level. */
const ANY = { maxDepth: 3, maxKeys: 6 } as const;
const BASE_YAML = toYaml(BASE);
const SECTIONS =
  /^(?:\(top level\)|(?:server|issuers|keys|tokens|groups|rules|decisions|logging|proxy|revocations|metrics)(?:\[|\.|:| \())/;

/** Drops every member that names a file (server.tls, revocations.file): no test reads a file outside the repository. */
function withoutFiles(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutFiles);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([k]) => k !== 'tls' && k !== 'file')
      .map(([k, v]) => [k, withoutFiles(v)]),
  );
}

/** Validates and compiles; returns the problems (none: accepted). Any other exception fails the property. */
function problemsOf(load: () => unknown): string[] {
  try {
    compilePolicy(load() as never);
    return [];
  } catch (err) {
    if (err instanceof ConfigError || err instanceof PolicyError) {
      assert.ok(err.problems.length > 0, 'an error without a problem');
      return [...err.problems];
    }
    throw err;
  }
}

/** Sets `value` at `path` in a copy of `base` (creating objects on the way); undefined deletes. */
function setAt(base: unknown, path: readonly (string | number)[], value: unknown): unknown {
  if (path.length === 0) return value;
  const [head, ...rest] = path;
  const copy = (Array.isArray(base) ? [...(base as unknown[])] : { ...(base && typeof base === 'object' ? base : {}) }) as Record<
    string | number,
    unknown
  >;
  const next = setAt(copy[head!], rest, value);
  if (next === undefined) delete copy[head!];
  else copy[head!] = next;
  return copy;
}

describe('property: configuration and conditions', () => {
  it(
    `any config file: a Config, or a clear error naming a key (${runsOf('configFile', RUNS)} runs, seed ${FUZZ_SEED})`,
    { timeout: 900_000 },
    (t) => {
      const seen = { accepted: 0, refused: 0 };
      const key = fc.constantFrom(
        'server',
        'issuers',
        'keys',
        'tokens',
        'groups',
        'rules',
        'decisions',
        'logging',
        'proxy',
        'metrics',
        0,
        1,
        'id',
        'type',
        'issuer',
        'audiences',
        'algorithms',
        'tenant',
        'allowed_tenants',
        'token_versions',
        'authority',
        'jwks_uri',
        'jwks_hosts',
        'actions',
        'any_roles',
        'when',
        'max_age',
        'public',
        'auth_contexts',
        'grpc',
        'http',
        'max_message_bytes',
        'shutdown_grace',
        'refresh_interval',
        'max_stale',
        'fetch_timeout',
        'clock_skew',
        'max_bytes',
        'max_ttl',
        'level',
        'forwarded_headers',
        'x',
      );
      const edit = fc.tuple(fc.array(key, { minLength: 1, maxLength: 4 }), fc.oneof(fc.constant(undefined), fc.anything(ANY)));
      const raw = fc.oneof(
        {
          weight: 3,
          arbitrary: fc
            .array(edit, { minLength: 1, maxLength: 4 })
            .map((edits) => edits.reduce((c, [p, v]) => setAt(c, p, v), BASE as unknown)),
        },
        { weight: 1, arbitrary: fc.anything(ANY) },
        {
          weight: 1,
          arbitrary: fc.object({ ...ANY, key: fc.constantFrom('server', 'issuers', 'keys', 'rules', 'tokens', 'groups', 'zzz') }),
        },
      );
      const text = fc.oneof(
        raw.map((value) => toYaml(withoutFiles(value) ?? null)),
        fc.tuple(fc.nat(), fc.string({ unit: 'binary', maxLength: 20 })).map(([at, s]) => {
          return BASE_YAML.slice(0, at % BASE_YAML.length) + s + BASE_YAML.slice(at % BASE_YAML.length);
        }),
        fc.string({ unit: 'binary', maxLength: 200 }),
      );
      fc.assert(
        fc.property(
          // YAML text one case in five: the parser costs several times the validation.
          fc.oneof({ weight: 4, arbitrary: raw.map((value) => ({ value })) }, { weight: 1, arbitrary: text.map((yaml) => ({ yaml })) }),
          (input) => {
            const problems =
              'yaml' in input
                ? problemsOf(() => parseConfigText(input.yaml, 'fuzz.yaml'))
                : problemsOf(() => validateConfig(withoutFiles(input.value)));
            seen[problems.length === 0 ? 'accepted' : 'refused'] += 1;
            for (const problem of problems) {
              const clear =
                SECTIONS.test(problem) ||
                /: unknown key$/.test(problem) ||
                /^(not valid YAML: |the file must hold a YAML mapping)/.test(problem);
              assert.ok(clear, `a problem that names no key: ${JSON.stringify(problem)}`);
            }
          },
        ),
        fuzzParameters('configFile', RUNS),
      );
      t.diagnostic(`outcomes: ${JSON.stringify(seen)}`);
      assert.ok(seen.accepted > 0 && seen.refused > 0, 'the cases reach both sides');
    },
  );

  it(
    `any CEL expression in a rule: refused at load, or evaluated safely (${runsOf('celCondition', RUNS)} runs, seed ${FUZZ_SEED})`,
    { timeout: 900_000 },
    (t) => {
      const seen = { refused: 0, allowed: 0, denied: 0 };
      const ident = fc.constantFrom(
        'principal',
        'principal.subject',
        'principal.roles',
        'principal.claims',
        'principal.claims.tid',
        'principal.app_only',
        'action',
        'attributes',
        'attributes["tenant"]',
        'request',
        'request.headers',
        'request.path',
        'params',
        'params.id',
        'now',
        'x',
        'cel',
      );
      const literal = fc.oneof(
        fc.integer().map(String),
        fc.constantFrom(
          '9223372036854775807',
          '9223372036854775808',
          '-9223372036854775808',
          '18446744073709551615u',
          '1e308',
          '0.0',
          '1u',
          'null',
          'true',
          'false',
        ),
        fc.string({ unit: 'binary', maxLength: 12 }).map((s) => JSON.stringify(s)),
        fc.constantFrom(
          'b"\\xff"',
          "r'\\d'",
          '"""x"""',
          '"\\u0000"',
          '[]',
          '{}',
          '[1, "a"]',
          '{"k": 1}',
          'duration("1h")',
          'timestamp("2026-01-01T00:00:00Z")',
        ),
      );
      const method = fc.constantFrom(
        'size',
        'contains',
        'startsWith',
        'endsWith',
        'matches',
        'exists',
        'all',
        'map',
        'filter',
        'exists_one',
        'string',
        'int',
        'getHours',
        'bind',
      );
      const { expr } = fc.letrec((tie) => ({
        expr: fc.oneof(
          { depthSize: 'small', withCrossShrink: true },
          ident,
          literal,
          fc
            .tuple(tie('expr'), fc.constantFrom('==', '!=', '<', '<=', '>', '>=', '&&', '||', '+', '-', '*', '/', '%', 'in'), tie('expr'))
            .map(([a, op, b]) => `${a} ${op} ${b}`),
          fc.tuple(fc.constantFrom('!', '-', '!!'), tie('expr')).map(([op, a]) => `${op}${a}`),
          tie('expr').map((a) => `(${a})`),
          fc.tuple(tie('expr'), tie('expr')).map(([a, i]) => `${a}[${i}]`),
          fc.tuple(tie('expr'), tie('expr'), tie('expr')).map(([c, a, b]) => `${c} ? ${a} : ${b}`),
          fc
            .tuple(tie('expr'), method, tie('expr'))
            .map(([r, m, a]) => `${r}.${m}(${/^(exists|all|map|filter|exists_one)$/.test(m) ? `v, ${a}` : a})`),
          fc
            .tuple(fc.constantFrom('size', 'int', 'string', 'has', 'type', 'dyn', 'double', 'uint', 'bytes', 'cel.bind'), tie('expr'))
            .map(([f, a]) => `${f}(${a})`),
          fc.array(tie('expr'), { maxLength: 4 }).map((items) => `[${items.join(', ')}]`),
        ),
      }));
      // Well-typed conditions, so that most compile and are evaluated: runtime errors (a division by zero, int() of a
      // string, a missing key) included.
      const str = fc.oneof(
        fc.constantFrom(
          'principal.subject',
          'action',
          'attributes["tenant"]',
          'request.path',
          'request.host',
          'params.id',
          'request.method',
        ),
        fc.string({ unit: 'binary', maxLength: 8 }).map((x) => JSON.stringify(x)),
        fc.constantFrom('string(principal.claims.tid)', 'request.headers["x-tenant"]', 'principal.claims["k"]', '"a" + "b"'),
      );
      const int = fc.oneof(
        fc.integer().map(String),
        fc.constantFrom(
          'size(principal.roles)',
          'size(action)',
          'int(params.id)',
          'int(attributes["n"])',
          '1 / 0',
          '9223372036854775807 + 1',
        ),
      );
      const { bool } = fc.letrec((tie) => ({
        bool: fc.oneof(
          { depthSize: 'small', withCrossShrink: true },
          fc.constantFrom('true', 'false', 'principal.app_only', 'has(principal.claims.tid)', '"Orders.Read" in principal.roles'),
          fc.tuple(str, fc.constantFrom('==', '!=', '<', '>='), str).map(([a, op, b]) => `${a} ${op} ${b}`),
          fc.tuple(int, fc.constantFrom('==', '<', '>', '<='), int).map(([a, op, b]) => `${a} ${op} ${b}`),
          fc.tuple(str, fc.constantFrom('startsWith', 'endsWith', 'contains'), str).map(([a, m, b]) => `${a}.${m}(${b})`),
          fc.tuple(fc.constantFrom('exists', 'all', 'exists_one'), str).map(([m, b]) => `principal.roles.${m}(r, r == ${b})`),
          fc.tuple(tie('bool'), fc.constantFrom('&&', '||'), tie('bool')).map(([a, op, b]) => `(${a}) ${op} (${b})`),
          tie('bool').map((a) => `!(${a})`),
          fc.tuple(tie('bool'), tie('bool'), tie('bool')).map(([c, a, b]) => `${c} ? ${a} : ${b}`),
          fc.tuple(str, str).map(([a, b]) => `${a} in [${b}, "x"]`),
        ),
      }));
      const source = fc.oneof(
        { weight: 4, arbitrary: bool },
        { weight: 1, arbitrary: expr },
        {
          weight: 1,
          arbitrary: fc
            .tuple(expr, fc.nat(), fc.string({ unit: 'binary', maxLength: 6 }))
            .map(([e, at, s]) => e.slice(0, at % (e.length + 1)) + s + e.slice(at % (e.length + 1))),
        },
        { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 60 }) },
      );
      const principal = fc.record({
        roles: fc.array(fc.string({ maxLength: 8 }), { maxLength: 4 }),
        claims: fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 5 }),
      });
      const attributes = fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 4 });
      fc.assert(
        fc.property(
          source,
          principal,
          attributes,
          fc.constantFrom('orders:approve', 'GET /orders/0', 'GET /orders/42'),
          (when, p, attrs, action) => {
            let policy: ReturnType<typeof compilePolicy>;
            try {
              policy = compilePolicy(
                validateConfig({ issuers: [OIDC], rules: [{ id: 'r', actions: ['orders:approve', 'GET /orders/{id}'], when }] }),
              );
            } catch (err) {
              if (!(err instanceof ConfigError || err instanceof PolicyError)) throw err;
              assert.ok(
                err.problems.length > 0 && err.problems.every((x) => x.startsWith('rules[0]')),
                `not named: ${err.problems.join('; ')}`,
              );
              seen.refused += 1;
              return;
            }
            const who: Principal = {
              issuer: OIDC.issuer,
              issuerId: 'idp',
              subject: 'alice',
              tenantId: '',
              objectId: '',
              clientId: 'app',
              roles: p.roles,
              scopes: [],
              groups: [],
              groupsOverage: false,
              appOnly: false,
              expiresAt: 2_000_000_000,
              tokenVersion: '',
              claims: p.claims,
            };
            const request = { method: 'GET', path: '/orders/42', host: 'orders.example', headers: new Map([['x-tenant', 'contoso']]) };
            const decision = authorize(policy, who, action, {
              facts: { attributes: attrs, request: () => request },
              nowMs: 1_790_000_000_000,
            });
            assert.ok(decision.allowed || decision.reason === 'CONDITION_NOT_MET', `decided ${JSON.stringify(decision)}`);
            seen[decision.allowed ? 'allowed' : 'denied'] += 1;
          },
        ),
        fuzzParameters('celCondition', RUNS),
      );
      t.diagnostic(`outcomes: ${JSON.stringify(seen)}`);
      assert.ok(seen.refused > 0 && seen.allowed > 0 && seen.denied > 0, 'the cases reach every outcome');
    },
  );
});
