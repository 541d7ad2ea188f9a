/**
 * The built-in config of `gatehouse dev`: one OIDC issuer (the dev issuer) and rules for a fictional
 * orders service, validated like any config file. examples/config/gatehouse.yaml is the production-style
 * counterpart.
 */
import { validateConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';

export const DEV_ISSUER_ID = 'dev';
export const DEV_AUDIENCE = 'api://orders';

export interface DevConfigOptions {
  /** The dev issuer's URL (`http://127.0.0.1:PORT`). */
  readonly issuerUrl: string;
  /** gRPC listen address, `host:port` (port 0 picks a free one). */
  readonly grpc: string;
  /** Operations HTTP listen address. */
  readonly http: string;
}

export function devConfig(options: DevConfigOptions): Config {
  return validateConfig(
    {
      server: { grpc: options.grpc, http: options.http, shutdown_grace: '2s' },
      issuers: [{ id: DEV_ISSUER_ID, type: 'oidc', issuer: options.issuerUrl, audiences: [DEV_AUDIENCE], algorithms: ['RS256'] }],
      // The dev issuer's key lives as long as the process: no need to poll for rotation.
      keys: { refresh_interval: '1h', unknown_kid_cooldown: '5s' },
      rules: [
        { id: 'health', actions: ['/grpc.health.v1.Health/*'], public: true },
        {
          id: 'orders-read',
          actions: ['/orders.v1.Orders/Get*', '/orders.v1.Orders/List*'],
          any_roles: ['Orders.Read', 'Orders.Admin'],
        },
        { id: 'orders-write', actions: ['/orders.v1.Orders/*'], any_roles: ['Orders.Admin'] },
        // The same orders API over plain HTTP, for services behind a proxy (examples/fastapi behind nginx).
        { id: 'http-health', actions: ['GET /health'], public: true },
        { id: 'orders-http-read', actions: ['GET /orders/*'], any_roles: ['Orders.Read', 'Orders.Admin'] },
        { id: 'orders-http-write', actions: ['* /orders/*'], any_roles: ['Orders.Admin'] },
      ],
      decisions: { max_ttl: '30s' },
      logging: { level: 'info', pretty: true },
    },
    'gatehouse dev (built-in config)',
  );
}
