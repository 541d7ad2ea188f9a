/**
 * `gatehouse dev`: a local dev issuer plus gatehouse on a built-in config, so the whole flow runs without an
 * Azure tenant. Refuses NODE_ENV=production: the dev issuer signs any token anyone on this machine asks for.
 */
import { ConfigError } from '../config/load.js';
import { devConfig, DEV_AUDIENCE } from '../dev/dev-config.js';
import { startDevIssuer, type DevIssuer } from '../dev/dev-issuer.js';
import { runServer } from '../main.js';
import { createCliLogger } from './cli-logger.js';
import { EXIT_FAILED } from './exit-codes.js';
import { renderProblems, renderRows } from './render.js';

export const DEFAULT_DEV_GRPC = '127.0.0.1:50051';
export const DEFAULT_DEV_HTTP = '127.0.0.1:9464';
export const DEFAULT_DEV_ISSUER_PORT = 9400;

export interface DevCommandOptions {
  readonly grpc: string;
  readonly http: string;
  /** 0 picks a free port. */
  readonly issuerPort: number;
}

/** Resolves once everything listens (undefined: keep running), or to an exit code. */
export async function devCommand(options: DevCommandOptions, env: NodeJS.ProcessEnv): Promise<number | undefined> {
  if (env.NODE_ENV === 'production') {
    console.error(
      'gatehouse dev refuses to run with NODE_ENV=production: its built-in issuer signs any token anyone asks for.\n' +
        'Run `gatehouse serve --config FILE` with your real issuers instead.',
    );
    return EXIT_FAILED;
  }
  let issuer: DevIssuer;
  try {
    issuer = await startDevIssuer({ port: options.issuerPort });
  } catch (err) {
    console.error(`gatehouse dev: cannot start the dev issuer on 127.0.0.1:${options.issuerPort}: ${(err as Error).message}`);
    return EXIT_FAILED;
  }
  let config;
  try {
    config = devConfig({ issuerUrl: issuer.url, grpc: options.grpc, http: options.http });
  } catch (err) {
    await issuer.close();
    if (!(err instanceof ConfigError)) throw err;
    console.error(renderProblems('the --grpc/--http options', err.problems));
    return EXIT_FAILED;
  }
  const { logger, logLinesDropped } = createCliLogger(config.logging.level, config.logging.pretty, config.logging.buffer_bytes);
  let gatehouse;
  try {
    ({ gatehouse } = await runServer(config, { logger, onStopped: () => issuer.close(), deps: { logLinesDropped } }));
  } catch (err) {
    await issuer.close();
    console.error(`gatehouse dev: could not start: ${(err as Error).message}`);
    return EXIT_FAILED;
  }
  // The start-up lines first: the log destination writes a turn's lines at its end, after a direct write.
  await new Promise<void>((resolve) => logger.flush(() => resolve()));
  console.log(banner(issuer, { grpc: hostOf(options.grpc, gatehouse.grpcPort), http: hostOf(options.http, gatehouse.httpPort) }));
  return undefined;
}

/** Where a client on this machine reaches a listener bound to `address` (a wildcard host means loopback). */
function hostOf(address: string, port: number): string {
  const host = address.slice(0, address.lastIndexOf(':'));
  return `${host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host}:${port}`;
}

function banner(issuer: DevIssuer, at: { grpc: string; http: string }): string {
  // Run from source (no build), the copy-paste lines must say how to run the CLI from source too.
  const cli = import.meta.url.endsWith('.ts') ? 'node --import tsx src/cli/gatehouse.ts' : 'gatehouse';
  const issuerFlag = issuer.port === DEFAULT_DEV_ISSUER_PORT ? '' : ` --issuer-url ${issuer.url}`;
  const addressFlag = at.grpc === DEFAULT_DEV_GRPC ? '' : ` --address ${at.grpc}`;
  const clients = issuer.clients.map((c) => `${c.clientId}:${c.clientSecret} (${(c.roles ?? []).join(' ') || 'no roles'})`).join(', ');
  const listeners = renderRows(
    [
      ['gRPC', `${at.grpc}  gatehouse.v1.AuthService, grpc.health.v1, reflection`],
      ['HTTP', `http://${at.http}  /v1/authz (forward auth) /metrics /healthz /readyz`],
      ['issuer', `${issuer.url}  id "dev": discovery, /jwks, POST /mint, POST /oauth2/token`],
      ['audience', DEV_AUDIENCE],
      ['clients', clients],
      ['rules', 'health (public), orders-read (Get*, List*: Orders.Read or Orders.Admin), orders-write (*: Orders.Admin),'],
      ['', 'and over HTTP: GET /health (public), GET /orders/* (Orders.Read or Orders.Admin), * /orders/* (Orders.Admin)'],
    ],
    '  ',
  );
  return [
    '',
    'gatehouse dev: a local issuer that signs any token you ask for. For development only.',
    listeners,
    '',
    'Try:',
    `  TOKEN=$(${cli} token --sub alice --roles Orders.Read${issuerFlag})`,
    `  ${cli} verify "$TOKEN"${addressFlag}`,
    `  ${cli} authorize --token "$TOKEN" --action /orders.v1.Orders/GetOrder${addressFlag}      # allowed`,
    `  ${cli} authorize --token "$TOKEN" --action /orders.v1.Orders/DeleteOrder${addressFlag}   # denied: MISSING_ROLE`,
    `  curl -s -u storefront:storefront-secret -d grant_type=client_credentials -d scope=${DEV_AUDIENCE}/.default ${issuer.url}/oauth2/token`,
    '',
  ].join('\n');
}
