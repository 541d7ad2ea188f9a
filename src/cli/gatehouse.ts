#!/usr/bin/env node
/**
 * The `gatehouse` command: parses arguments and hands each command to its module, loaded on demand so that
 * `gatehouse token` does not pay for gRPC and `gatehouse verify` does not pay for the server.
 * Usage errors exit 2, like every other failure to do the job.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { EXIT_FAILED } from './exit-codes.js';
import type { ConnectionOptions } from './auth-client.js';
import type { RevokeCommandOptions } from './revoke.js';
import type { TokenCommandOptions } from './token.js';

const program = new Command('gatehouse')
  .description('Verifies Entra ID / OIDC bearer tokens and authorizes gRPC calls from declarative rules.')
  .showHelpAfterError()
  .exitOverride();

const configOption = () => new Option('-c, --config <file>', 'the YAML config file').env('GATEHOUSE_CONFIG');
const tlsCaOption = () => new Option('--tls-ca <file>', 'connect with TLS, trusting this CA (PEM)').env('GATEHOUSE_TLS_CA');
const tlsCertOption = () => new Option('--tls-cert <file>', 'client certificate for mTLS (PEM)').env('GATEHOUSE_TLS_CERT');
const tlsKeyOption = () => new Option('--tls-key <file>', 'client private key for mTLS (PEM)').env('GATEHOUSE_TLS_KEY');
const addressOption = () =>
  new Option('--address <host:port>', 'the gatehouse gRPC address').env('GATEHOUSE_ADDRESS').default('127.0.0.1:50051');

program
  .command('serve')
  .description('run gatehouse from a config file (exit 2 on a bad config, before listening)')
  .addOption(configOption())
  .action(async (opts: { config?: string }) => {
    (await import('./v8-tuning.js')).tuneV8ForServing();
    const { serveCommand } = await import('./serve.js');
    finish(await serveCommand(opts.config));
  });

program
  .command('dev')
  .description('run a local dev issuer and gatehouse with a built-in example config (never in production)')
  .option('--grpc <host:port>', 'gRPC listen address (port 0: any free port)', '127.0.0.1:50051')
  .option('--http <host:port>', 'operations HTTP listen address (port 0: any free port)', '127.0.0.1:9464')
  .option('--issuer-port <port>', 'dev issuer port on 127.0.0.1 (0: any free port)', port, 9400)
  .action(async (opts: { grpc: string; http: string; issuerPort: number }) => {
    (await import('./v8-tuning.js')).tuneV8ForServing();
    const { devCommand } = await import('./dev.js');
    finish(await devCommand(opts, process.env));
  });

program
  .command('token')
  .description('mint a token at the running dev issuer and print only the token')
  .requiredOption('--sub <subject>', 'the subject (sub, oid)')
  .option('--roles <list>', 'app roles, comma separated', commaList)
  .option('--scopes <list>', 'delegated scopes (scp), comma separated', commaList)
  .option('--groups <list>', 'group ids, comma separated', commaList)
  .option('--aud <audience>', 'the audience', 'api://orders')
  .option('--app', 'an application (app-only) token instead of a user token', false)
  .option('--ttl <duration>', 'lifetime (90s, 15m, 1h; -5m for an expired token)', '1h')
  .option('--tid <guid>', 'the tenant id claim')
  .addOption(new Option('--issuer-url <url>', 'the dev issuer').env('GATEHOUSE_DEV_ISSUER').default('http://127.0.0.1:9400'))
  .action(async (opts: TokenCommandOptions) => {
    const { tokenCommand } = await import('./token.js');
    finish(await tokenCommand(opts));
  });

program
  .command('verify')
  .description('ask a running gatehouse to verify a token (exit 0 valid, 1 refused, 2 call failed)')
  .argument('<token>', 'the token, or - to read it from stdin')
  .addOption(addressOption())
  .addOption(tlsCaOption())
  .addOption(tlsCertOption())
  .addOption(tlsKeyOption())
  .option('--json', 'print the response as JSON', false)
  .action(async (token: string, opts: ConnectionOptions & { json: boolean }) => {
    const { verifyCommand } = await import('./verify.js');
    finish(await verifyCommand(token, opts));
  });

program
  .command('authorize')
  .description('ask a running gatehouse for a decision (exit 0 allowed, 1 denied, 2 call failed)')
  .requiredOption('--token <token>', 'the token, or - to read it from stdin')
  .requiredOption('--action <action>', 'a gRPC method (/orders.v1.Orders/GetOrder) or resource:verb')
  .addOption(addressOption())
  .addOption(tlsCaOption())
  .addOption(tlsCertOption())
  .addOption(tlsKeyOption())
  .option('--json', 'print the response as JSON', false)
  .action(async (opts: ConnectionOptions & { token: string; action: string; json: boolean }) => {
    const { authorizeCommand } = await import('./authorize.js');
    finish(await authorizeCommand(opts));
  });

program
  .command('explain')
  .description('decide locally from a config file and show why each rule matched or not (exit 0 allowed, 1 denied)')
  .addOption(configOption().makeOptionMandatory())
  .option('--token <token>', 'the token, or - to read it from stdin (omit: no token)')
  .requiredOption('--action <action>', 'a gRPC method (/orders.v1.Orders/GetOrder) or resource:verb')
  .option('--attribute <key=value>', 'an attribute for `when` conditions (repeat for more)', collect, [])
  .action(async (opts: { config: string; token?: string; action: string; attribute: string[] }) => {
    const { explainCommand } = await import('./explain.js');
    finish(await explainCommand(opts));
  });

program
  .command('revoke')
  .description('append an entry to a revocation file (atomically; a running gatehouse picks it up)')
  .requiredOption('--file <path>', 'the revocation file (revocations.file); created when missing')
  .option('--sub <subject>', 'revoke tokens of this subject (sub)')
  .option('--oid <id>', 'revoke tokens of this object id (oid)')
  .option('--jti <id>', 'revoke the token with this JWT id (jti)')
  .option('--uti <id>', 'revoke the token with this Entra token id (uti)')
  .option('--client-id <id>', 'revoke tokens of this client (azp, appid, client_id)')
  .option('--issuer <id>', 'only tokens of this configured issuer')
  .option('--issued-before <time>', 'only tokens issued before: now, or an RFC 3339 time (2026-11-03T10:00:00Z)')
  .action(async (opts: RevokeCommandOptions) => {
    const { revokeCommand } = await import('./revoke.js');
    finish(revokeCommand(opts));
  });

program
  .command('check-config')
  .description('validate a config file and compile its rules (exit 2 on problems)')
  .addOption(configOption().makeOptionMandatory())
  .action(async (opts: { config: string }) => {
    const { checkConfigCommand } = await import('./check-config.js');
    finish(checkConfigCommand(opts.config));
  });

/** A command's exit code; undefined for `serve`/`dev`, which keep running until a signal. */
function finish(code: number | undefined): void {
  if (code !== undefined) process.exitCode = code;
}

function commaList(value: string): string[] {
  return value
    .split(',')
    .map((v) => v.trim())
    .filter((v) => v !== '');
}

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('a port number, 0-65535');
  return n;
}

try {
  await program.parseAsync();
} catch (err) {
  if (!(err instanceof CommanderError)) throw err;
  // Help and --version exit 0; anything else commander refused is a usage error.
  process.exitCode = err.exitCode === 0 ? 0 : EXIT_FAILED;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
