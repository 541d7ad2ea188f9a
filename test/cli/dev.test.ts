import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CliProcess, runCli, tempDir } from './cli-process.js';

describe('gatehouse dev, then token / verify / authorize / explain against it', () => {
  let dev: CliProcess;
  let address: string;
  let issuerUrl: string;
  let dir: string;
  let remove: () => void;

  /** Every token this file handled: the dev process's output is searched for them at the end. */
  const seen: string[] = [];
  const token = async (...args: string[]) => {
    const result = await runCli(['token', '--issuer-url', issuerUrl, ...args]);
    assert.equal(result.code, 0, result.stderr);
    seen.push(result.stdout.trim());
    return result.stdout.trim();
  };
  /** The dev issuer's mint endpoint called directly: what `gatehouse token` does, without a process per token. */
  const mint = async (body: Record<string, unknown>) => {
    const res = await fetch(`${issuerUrl}/mint`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    assert.equal(res.status, 200);
    const minted = ((await res.json()) as { token: string }).token;
    seen.push(minted);
    return minted;
  };

  before(async () => {
    ({ dir, remove } = tempDir());
    dev = new CliProcess(['dev', '--grpc', '127.0.0.1:0', '--http', '127.0.0.1:0', '--issuer-port', '0']);
    address = /gRPC\s+(127\.0\.0\.1:\d+)/.exec(await dev.waitForLine(/^\s+gRPC\s/))![1]!;
    issuerUrl = /issuer\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(await dev.waitForLine(/^\s+issuer\s/))![1]!;
  });
  after(async () => {
    await dev.kill();
    remove();
  });

  it('prints bound ports (not 0) and copy-paste commands naming them', () => {
    assert.doesNotMatch(address, /:0$/);
    assert.doesNotMatch(issuerUrl, /:0$/);
    const text = dev.lines.join('\n');
    assert.match(text, new RegExp(`token --sub alice --roles Orders.Read --issuer-url ${issuerUrl}`));
    assert.match(text, new RegExp(`verify "\\$TOKEN" --address ${address}`));
  });

  it('token prints only a JWT; verify prints the principal, exit 0', async () => {
    const jwt = await token('--sub', 'alice', '--roles', 'Orders.Read', '--scopes', 'orders.read,profile', '--groups', 'g1');
    assert.match(jwt, /^[\w-]+\.[\w-]+\.[\w-]+$/);
    const result = await runCli(['verify', jwt, '--address', address]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^result\s+valid$/m);
    assert.match(result.stdout, /^subject\s+alice$/m);
    assert.match(result.stdout, /^issuer\s+dev \(http:\/\/127\.0\.0\.1:\d+\)$/m);
    assert.match(result.stdout, /^kind\s+user \(delegated\)$/m);
    assert.match(result.stdout, /^roles\s+Orders\.Read$/m);
    assert.match(result.stdout, /^scopes\s+orders\.read profile$/m);
    assert.match(result.stdout, /^groups\s+g1$/m);
  });

  it('verify --json of an app token, the token read from stdin', async () => {
    const jwt = await token('--sub', 'billing-svc', '--app', '--roles', 'Orders.Admin', '--ttl', '5m');
    const result = await runCli(['verify', '-', '--address', address, '--json'], { stdin: `${jwt}\n` });
    assert.equal(result.code, 0, result.stderr);
    const response = JSON.parse(result.stdout) as { valid: boolean; principal: { subject: string; appOnly: boolean; roles: string[] } };
    assert.equal(response.valid, true);
    assert.equal(response.principal.subject, 'billing-svc');
    assert.equal(response.principal.appOnly, true);
    assert.deepEqual(response.principal.roles, ['Orders.Admin']);
  });

  it('a token for another audience: verify gives AUDIENCE_MISMATCH, exit 1', async () => {
    const jwt = await mint({ sub: 'alice', roles: ['Orders.Read'], aud: 'api://billing' });
    const result = await runCli(['verify', jwt, '--address', address]);
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stdout, /^result\s+invalid$/m);
    assert.match(result.stdout, /^reason\s+AUDIENCE_MISMATCH$/m);
    assert.match(result.stdout, /api:\/\/billing/);
  });

  it('an expired token: TOKEN_EXPIRED, exit 1', async () => {
    const jwt = await token('--sub', 'alice', '--ttl', '-5m');
    const result = await runCli(['verify', jwt, '--address', address]);
    assert.equal(result.code, 1);
    assert.match(result.stdout, /^reason\s+TOKEN_EXPIRED$/m);
  });

  it('authorize: a reader may GetOrder (exit 0) but not DeleteOrder (exit 1, MISSING_ROLE)', async () => {
    const jwt = await mint({ sub: 'alice', roles: ['Orders.Read'] });
    const [allowed, denied] = await Promise.all([
      runCli(['authorize', '--token', jwt, '--action', '/orders.v1.Orders/GetOrder', '--address', address]),
      runCli(['authorize', '--token', jwt, '--action', '/orders.v1.Orders/DeleteOrder', '--address', address, '--json']),
    ]);
    assert.equal(allowed.code, 0, allowed.stderr);
    assert.match(allowed.stdout, /^decision\s+allowed$/m);
    assert.match(allowed.stdout, /^rule\s+orders-read$/m);
    assert.match(allowed.stdout, /^subject\s+alice \(issuer dev\)$/m);

    assert.equal(denied.code, 1, denied.stderr);
    const response = JSON.parse(denied.stdout) as { allowed: boolean; rule: string; denial: { reason: string; message: string } };
    assert.equal(response.allowed, false);
    assert.equal(response.rule, 'orders-write');
    assert.equal(response.denial.reason, 'MISSING_ROLE');
    assert.match(response.denial.message, /Orders\.Admin/);
  });

  it('a client credentials token from the dev issuer is an app token with the client roles', async () => {
    const res = await fetch(`${issuerUrl}/oauth2/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from('storefront:storefront-secret').toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'api://orders/.default' }),
    });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { access_token: string; token_type: string; expires_in: number };
    assert.equal(body.token_type, 'Bearer');
    assert.ok(body.expires_in > 0);
    const result = await runCli([
      'authorize',
      '--token',
      body.access_token,
      '--action',
      '/orders.v1.Orders/ListOrders',
      '--address',
      address,
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^subject\s+storefront \(issuer dev\)$/m);
  });

  it('explain walks the rules locally, from a config naming the dev issuer', async () => {
    const config = join(dir, 'explain.yaml');
    writeFileSync(
      config,
      `issuers:
  - { id: dev, type: oidc, issuer: "${issuerUrl}", audiences: [api://orders] }
rules:
  - { id: health, actions: [/grpc.health.v1.Health/*], public: true }
  - { id: orders-read, actions: [/orders.v1.Orders/Get*], any_roles: [Orders.Read] }
  - { id: orders-write, actions: [/orders.v1.Orders/*], any_roles: [Orders.Admin] }
`,
    );
    const reader = await mint({ sub: 'alice', roles: ['Orders.Read'] });
    const wrongAud = await mint({ sub: 'alice', roles: ['Orders.Admin'], aud: 'api://billing' });
    const [allowed, denied, refused] = await Promise.all([
      runCli(['explain', '--config', config, '--token', reader, '--action', '/orders.v1.Orders/GetOrder']),
      runCli(['explain', '--config', config, '--token', reader, '--action', '/orders.v1.Orders/CancelOrder']),
      runCli(['explain', '--config', config, '--token', wrongAud, '--action', '/orders.v1.Orders/CancelOrder']),
    ]);
    assert.equal(allowed.code, 0, allowed.stderr);
    assert.match(allowed.stdout, /^token\s+valid$/m);
    assert.match(allowed.stdout, /1\. health\s+no match\s+no pattern matches/);
    assert.match(allowed.stdout, /2\. orders-read\s+DECIDES\s+first rule to match, by "\/orders.v1.Orders\/Get\*"; allowed/);
    assert.match(allowed.stdout, /3\. orders-write\s+skipped\s+not reached: rule orders-read decided first/);
    assert.match(allowed.stdout, /^decision\s+allowed by rule orders-read$/m);

    assert.equal(denied.code, 1);
    assert.match(denied.stdout, /3\. orders-write\s+DECIDES .*denied MISSING_ROLE/);
    assert.match(denied.stdout, /^decision\s+denied MISSING_ROLE by rule orders-write/m);

    assert.equal(refused.code, 1);
    assert.match(refused.stdout, /^token\s+invalid: AUDIENCE_MISMATCH: /m);
    assert.match(refused.stdout, /3\. orders-write\s+DECIDES .*requires a verified token/);
    assert.match(refused.stdout, /^decision\s+denied AUDIENCE_MISMATCH/m);
  });

  it('a failed call exits 2: verify against a closed port, token against no issuer', async () => {
    const [verify, mint] = await Promise.all([
      runCli(['verify', 'x.y.z', '--address', '127.0.0.1:1']),
      runCli(['token', '--sub', 'a', '--issuer-url', 'http://127.0.0.1:1']),
    ]);
    assert.equal(verify.code, 2);
    assert.match(verify.stderr, /gatehouse at 127\.0\.0\.1:1: UNAVAILABLE/);
    assert.equal(mint.code, 2);
    assert.match(mint.stderr, /cannot reach the dev issuer at http:\/\/127\.0\.0\.1:1/);
    assert.equal(mint.stdout, '');
  });

  it('SIGTERM: dev shuts down and exits 0', async () => {
    dev.signal('SIGTERM');
    const { code } = await dev.exited();
    assert.equal(code, 0, dev.stderr);
  });

  it('the dev process wrote no token material, in any line, all along', () => {
    assert.ok(seen.length >= 5, `${seen.length} tokens handled`);
    const written = `${dev.lines.join('\n')}\n${dev.stderr}`;
    assert.ok(written.includes('decision'), 'it did log the decisions');
    for (const jwt of seen) for (const segment of jwt.split('.')) assert.ok(!written.includes(segment), 'a token segment was written');
  });
});

describe('gatehouse dev under NODE_ENV=production', () => {
  it('refuses to start: exit 2 with a clear message', async () => {
    const result = await runCli(['dev', '--grpc', '127.0.0.1:0', '--http', '127.0.0.1:0', '--issuer-port', '0'], {
      env: { NODE_ENV: 'production' },
    });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /refuses to run with NODE_ENV=production/);
    assert.doesNotMatch(result.stdout, /gRPC/);
  });
});
