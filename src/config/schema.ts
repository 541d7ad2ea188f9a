/**
 * The one schema of gatehouse's configuration: its type, its defaults and its validation.
 * Everything the server reads from config goes through here, once, at start (and on reload).
 */
import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { parseDuration } from './duration.js';
import { GUID } from '../contract/guid.js';
import { isSecureUrl } from '../contract/secure-url.js';
import { checkTlsFiles } from './tls-files.js';

interface Bound {
  readonly text: string;
  readonly why: string;
}

/** Node's timers wait at most 2^31 - 1 ms (about 24.8 days): a longer one fires at once, and a timeout never waits. */
const TIMER_CEILING: Bound = { text: '24d', why: "Node's timers cannot wait longer" };

/**
 * `min`: the shortest duration allowed (its text, e.g. `1s`), for settings that would otherwise make a loop; `max`:
 * the longest, for settings that become a timer as they are ({@link TIMER_CEILING}) or that callers wait on.
 */
const duration = (fallback: string, min?: Bound, max?: Bound) =>
  z
    .union([z.string(), z.number()])
    .default(fallback)
    .transform((value, ctx) => durationMs(value, ctx, min, max));

/** A duration with no default: absent stays undefined (a setting that is off unless stated). */
const optionalDuration = (min?: Bound, max?: Bound) =>
  z
    .union([z.string(), z.number()])
    .transform((value, ctx) => durationMs(value, ctx, min, max))
    .optional();

function durationMs(
  value: string | number,
  ctx: { addIssue(issue: { code: 'custom'; message: string }): void },
  min?: Bound,
  max?: Bound,
): number {
  const ms = parseDuration(value);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: `not a duration: ${JSON.stringify(value)} (use 500ms, 30s, 5m, 1h)` });
    return z.NEVER;
  }
  if (min && ms < parseDuration(min.text)!) {
    ctx.addIssue({ code: 'custom', message: `must be at least ${min.text}, got ${JSON.stringify(value)} (${min.why})` });
    return z.NEVER;
  }
  if (max && ms > parseDuration(max.text)!) {
    ctx.addIssue({ code: 'custom', message: `must be at most ${max.text}, got ${JSON.stringify(value)} (${max.why})` });
    return z.NEVER;
  }
  return ms;
}

/** A max_age of 0 would refuse every session; below a second, clock skew and `iat`'s whole seconds decide instead. */
const MAX_AGE_FLOOR: Bound = { text: '1s', why: 'sign-in times are whole seconds' };

/** Key fetches are triggered by timers and by callers: below these, one config or one caller makes a fetch loop. */
const KEY_REFETCH_FLOOR = { text: '1s', why: 'shorter makes gatehouse refetch keys in a loop' };
const CONNECTION_AGE_FLOOR = { text: '1s', why: 'shorter makes every client reconnect in a loop' };
const FETCH_TIMEOUT_FLOOR = { text: '100ms', why: 'shorter fails every key fetch' };
const FETCH_TIMEOUT_CEILING = { text: '60s', why: 'a provider that slow is down; callers wait on the fetch' };

/** https everywhere; plain http only on loopback, so local development and tests work. */
const secureUrl = z.string().superRefine((value, ctx) => {
  if (!URL.canParse(value)) ctx.addIssue({ code: 'custom', message: `not a URL: ${JSON.stringify(value)}` });
  else if (!isSecureUrl(value))
    ctx.addIssue({ code: 'custom', message: `must be https (plain http is allowed only on loopback): ${value}` });
});

/** Asymmetric algorithms only: never `none`, never HMAC with keys fetched from a provider. */
export const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const;
export type Algorithm = (typeof ALGORITHMS)[number];
const algorithm = z.string().refine((a): a is Algorithm => (ALGORITHMS as readonly string[]).includes(a), {
  message: `must be one of ${ALGORITHMS.join(', ')} (none and HS* are never accepted with remote keys)`,
});

const MULTI_TENANT = ['common', 'organizations', 'consumers'] as const;

/**
 * `issuers[].jwks_hosts`: hosts besides the discovery document's own that its `jwks_uri` may name, as `host` (any
 * port) or `host:port`. A discovery document is fetched over the network; without this, a tampered or
 * misconfigured one could point gatehouse at keys on any host.
 */
const jwksHosts = z
  .array(
    z
      .string()
      .regex(/^(\[[0-9a-f:]+\]|[a-z0-9.-]+)(:\d{1,5})?$/i, 'must be a host name or host:port, such as www.googleapis.com')
      .transform((host) => host.toLowerCase()),
  )
  .min(1)
  .optional();

const id = z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,62}$/i, 'must be 1-63 letters, digits, _ . -');
const audiences = z.array(z.string().min(1)).min(1, 'required: at least one audience');

const entraIssuer = z
  .object({
    id,
    type: z.literal('entra'),
    tenant: z.string().refine((t) => GUID.test(t) || (MULTI_TENANT as readonly string[]).includes(t), {
      message: `must be a tenant id (GUID) or one of ${MULTI_TENANT.join(', ')}`,
    }),
    allowed_tenants: z.array(z.string().refine((t) => t === '*' || GUID.test(t), 'must be a tenant id (GUID) or "*"')).optional(),
    token_versions: z
      .array(z.union([z.literal(1), z.literal(2)]))
      .min(1)
      .default([1, 2]),
    authority: secureUrl.default('https://login.microsoftonline.com'),
    jwks_hosts: jwksHosts,
    audiences,
    algorithms: z.array(algorithm).min(1).default(['RS256']),
    strip_authorization: z.boolean().optional(),
  })
  .strict()
  .superRefine((issuer, ctx) => {
    const multi = !GUID.test(issuer.tenant);
    if (multi && !issuer.allowed_tenants?.length) {
      ctx.addIssue({
        code: 'custom',
        path: ['allowed_tenants'],
        message: `required for a multi-tenant issuer (tenant: ${issuer.tenant}); write ["*"] to accept every tenant`,
      });
    }
    if (!multi && issuer.allowed_tenants) {
      ctx.addIssue({ code: 'custom', path: ['allowed_tenants'], message: 'only for multi-tenant issuers (tenant: common/organizations)' });
    }
  });

const oidcIssuer = z
  .object({
    id,
    type: z.literal('oidc'),
    issuer: secureUrl,
    audiences,
    algorithms: z.array(algorithm).min(1).default(['RS256', 'ES256']),
    jwks_uri: secureUrl.optional(),
    jwks_hosts: jwksHosts,
    /** Overrides proxy.strip_authorization for this issuer's tokens. */
    strip_authorization: z.boolean().optional(),
  })
  .strict()
  .superRefine((issuer, ctx) => {
    if (issuer.jwks_uri && issuer.jwks_hosts) {
      ctx.addIssue({ code: 'custom', path: ['jwks_hosts'], message: 'only with discovery: jwks_uri is configured outright' });
    }
  });

/** More processes than this on one replica is a typo, not a plan (each holds its own caches and keys). */
const MAX_WORKERS = 256;
const WORKERS_MESSAGE = `must be a whole number from 1 to ${MAX_WORKERS}, or auto (one per CPU)`;

/** `gatehouse serve` processes sharing the listeners: a number, or `auto` (os.availableParallelism()). */
const workers = z
  .union([z.literal('auto'), z.number()], { error: WORKERS_MESSAGE })
  .default(1)
  .transform((value, ctx) => {
    const n = value === 'auto' ? availableParallelism() : value;
    if (Number.isInteger(n) && n >= 1 && n <= MAX_WORKERS) return n;
    ctx.addIssue({ code: 'custom', message: `${WORKERS_MESSAGE}, got ${JSON.stringify(value)}` });
    return z.NEVER;
  });

const listenAddress = z.string().regex(/^(\[[0-9a-f:]+\]|[a-z0-9.-]+):\d{1,5}$/i, 'must be host:port');

/**
 * server.max_inflight by default: ~10.5 k calls/s of one event loop (95 µs of server CPU per fully verified
 * Authorize, bench/authorize.bench.ts) × the 50 ms latency budget (GatehouseLatencyHigh) ≈ 525, rounded down.
 */
export const DEFAULT_MAX_INFLIGHT = 512;

/** The longest `when` expression a rule may carry, in characters (with the AST node limit, its evaluation bound). */
export const MAX_CONDITION_LENGTH = 2048;

const rule = z
  .object({
    id,
    actions: z.array(z.string().min(1)).min(1, 'required: at least one action pattern'),
    issuers: z.array(z.string()).min(1).optional(),
    public: z.boolean().default(false),
    any_roles: z.array(z.string().min(1)).min(1).optional(),
    all_roles: z.array(z.string().min(1)).min(1).optional(),
    any_scopes: z.array(z.string().min(1)).min(1).optional(),
    all_scopes: z.array(z.string().min(1)).min(1).optional(),
    any_groups: z.array(z.string().min(1)).min(1).optional(),
    all_groups: z.array(z.string().min(1)).min(1).optional(),
    app_only: z.boolean().optional(),
    /** A CEL condition, checked after the other requirements (policy/condition.ts compiles it). */
    when: z.string().min(1).max(MAX_CONDITION_LENGTH, `at most ${MAX_CONDITION_LENGTH} characters`).optional(),
    /** Accept only sessions signed in (auth_time, else iat) at most this long ago; tokens.max_age applies too. */
    max_age: optionalDuration(MAX_AGE_FLOOR),
    /** Entra Conditional Access authentication context ids (`acrs`), any of. */
    auth_contexts: z
      .array(z.string().regex(/^[\x21-\x7e]{1,64}$/, 'must be an authentication context id such as c1'))
      .min(1)
      .optional(),
  })
  .strict();

/** PEM files of a listener, re-read when they change (src/server/tls-reloader.ts); the same checks then. */
const tlsFiles = z
  .object({ cert: z.string().min(1), key: z.string().min(1), client_ca: z.string().min(1).optional() })
  .strict()
  .superRefine((tls, ctx) => {
    for (const [key, message] of checkTlsFiles(tls)) ctx.addIssue({ code: 'custom', path: [key], message });
  });

export const configSchema = z
  .object({
    server: z
      .object({
        grpc: listenAddress.default('0.0.0.0:50051'),
        http: listenAddress.default('0.0.0.0:9464'),
        // At most 1 MiB: every request is decoded in full before its nested counts (Envoy's headers) are checked.
        max_message_bytes: z
          .number()
          .int()
          .min(1024)
          .max(1024 * 1024)
          .default(64 * 1024),
        /**
         * Calls worked on at once, across every door; more are shed at once (RESOURCE_EXHAUSTED, or 503 with
         * Retry-After). The default is measured capacity × the 50 ms latency budget (README, "Overload").
         */
        max_inflight: z.number().int().min(1).default(DEFAULT_MAX_INFLIGHT),
        shutdown_grace: duration('10s', undefined, TIMER_CEILING),
        /** On SIGTERM, keep serving this long while not ready (so traffic moves away), before refusing new calls. */
        shutdown_delay: duration('0s', undefined, TIMER_CEILING),
        /**
         * A gRPC connection older than this (±10 %) is asked to go away (GOAWAY) once its calls finish, so clients
         * re-resolve and spread onto replicas added since they connected (a headless Service, an autoscaler).
         */
        max_connection_age: duration('5m', CONNECTION_AGE_FLOOR, TIMER_CEILING),
        /**
         * When /readyz says ready: `all` issuers have usable keys (or are on their first fetch), or `any` one
         * does (one partner's identity provider being down then does not take the replica out of service).
         */
        readiness: z.enum(['all', 'any']).default('all'),
        /**
         * `gatehouse serve` only: with more than 1, a primary process forks this many workers that share the gRPC
         * and HTTP ports (node:cluster) and aggregates their /metrics; with 1, no primary at all.
         */
        workers,
        /** TLS on the gRPC listener; with client_ca, clients must present a certificate it signed (mTLS). */
        tls: tlsFiles.optional(),
        /**
         * Serve forward auth (`/v1/authz`, for nginx, Caddy, Traefik) on server.http. Off: 404, and the HTTP listener
         * serves only probes and metrics (e.g. when callers must use mTLS on gRPC and the HTTP port has no TLS).
         */
        forward_auth: z.boolean().default(true),
        /** TLS on the HTTP listener (forward auth reached across a network), the same way. */
        http_tls: tlsFiles.optional(),
      })
      .strict()
      .prefault({}),
    issuers: z.array(z.discriminatedUnion('type', [entraIssuer, oidcIssuer])).min(1, 'required: at least one issuer'),
    keys: z
      .object({
        refresh_interval: duration('1h', KEY_REFETCH_FLOOR),
        unknown_kid_cooldown: duration('30s', KEY_REFETCH_FLOOR),
        // At least refresh_interval (checked below), so at least 1s too.
        max_stale: duration('24h'),
        max_keys: z.number().int().min(1).default(1000),
        fetch_timeout: duration('5s', FETCH_TIMEOUT_FLOOR, FETCH_TIMEOUT_CEILING),
      })
      .strict()
      .prefault({}),
    tokens: z
      .object({
        clock_skew: duration('60s'),
        /** Every non-public rule: accept only sessions signed in at most this long ago (a rule's max_age may be shorter). */
        max_age: optionalDuration(MAX_AGE_FLOOR),
        max_bytes: z
          .number()
          .int()
          .min(512)
          .max(1024 * 1024)
          .default(16384),
      })
      .strict()
      .prefault({}),
    groups: z.record(z.string(), z.string().min(1)).default({}),
    rules: z.array(rule).default([]),
    decisions: z
      .object({
        max_ttl: duration('60s'),
        max_entries: z.number().int().min(0).default(100_000),
        /** Memory bound of the decision cache (verified tokens and their decisions), estimated from token sizes. */
        max_bytes: z
          .number()
          .int()
          .min(0)
          .default(64 * 1024 * 1024),
      })
      .strict()
      .prefault({}),
    logging: z
      .object({
        level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
        pretty: z.boolean().default(false),
        /**
         * Bytes of log lines waiting for stdout to take them; past it, lines are dropped and counted
         * (gatehouse_log_lines_dropped_total) rather than stop the service (README, "Logs").
         */
        buffer_bytes: z
          .number()
          .int()
          .min(16 * 1024)
          .max(1024 * 1024 * 1024)
          .default(4 * 1024 * 1024),
      })
      .strict()
      .prefault({}),
    /** The proxy doors: Envoy's Check and HTTP forward auth (`/v1/authz`) behind nginx, Caddy or Traefik. */
    proxy: z
      .object({
        /** Envoy: remove `authorization` from an allowed request before it goes upstream (issuers[].strip_authorization overrides). */
        strip_authorization: z.boolean().default(false),
        /**
         * Forward auth: which headers name the original request: `original` (X-Original-Method/-URI, as nginx configs
         * set them), `forwarded` (X-Forwarded-Method/-Uri, as Caddy and Traefik send them), or `any` (either; a
         * forward carrying both that disagree is refused). With one family trusted, a forward carrying the other is
         * refused.
         */
        forwarded_headers: z.enum(['any', 'original', 'forwarded']).default('any'),
      })
      .strict()
      .prefault({}),
    /** A YAML list of revoked subjects, tokens and clients (src/config/revocation-file.ts), watched like this file. */
    revocations: z
      .object({
        file: z.string().min(1).optional(),
        /**
         * With a file: the longest `cache_for` callers are told, so a client's local cache (which gatehouse cannot
         * recall) serves a revoked token's allow at most this long.
         */
        client_cache_max: duration('5s'),
      })
      .strict()
      .prefault({}),
    metrics: z
      .object({ tenant_label: z.boolean().default(false) })
      .strict()
      .prefault({}),
  })
  .strict()
  .superRefine((config, ctx) => {
    const seen = new Map<string, number>();
    if (config.keys.max_stale < config.keys.refresh_interval) {
      ctx.addIssue({ code: 'custom', path: ['keys', 'max_stale'], message: 'must be at least keys.refresh_interval' });
    }
    config.issuers.forEach((issuer, i) => {
      if (seen.has(issuer.id)) ctx.addIssue({ code: 'custom', path: ['issuers', i, 'id'], message: `duplicate issuer id "${issuer.id}"` });
      seen.set(issuer.id, i);
    });
  });

/** The validated configuration. Durations are milliseconds. */
export type Config = z.output<typeof configSchema>;
export type IssuerConfig = Config['issuers'][number];
export type EntraIssuerConfig = Extract<IssuerConfig, { type: 'entra' }>;
export type OidcIssuerConfig = Extract<IssuerConfig, { type: 'oidc' }>;
export type RuleConfig = Config['rules'][number];
