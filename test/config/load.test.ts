// The config schema and loader, in process: every problem named by its key, defaults filled in, environment
// overrides of the listen addresses, and plain http refused except on loopback (issuer, authority, JWKS, and a
// jwks_uri a discovery document names).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfigText, validateConfig } from '../../src/config/load.js';
import { OIDC, problemsOf } from './config-problems.js';
import { metadataFromDiscovery } from '../../src/verification/issuers/issuer.js';
import { oidcSource } from '../../src/verification/issuers/oidc.js';

describe('config', () => {
  it('fills defaults and turns durations into milliseconds', () => {
    const config = validateConfig({ issuers: [OIDC] });
    assert.equal(config.server.grpc, '0.0.0.0:50051');
    assert.equal(config.keys.refresh_interval, 3_600_000);
    assert.equal(config.keys.unknown_kid_cooldown, 30_000);
    assert.equal(config.tokens.clock_skew, 60_000);
    assert.equal(config.tokens.max_bytes, 16_384);
    assert.ok(Object.isFrozen(config.issuers[0]), 'frozen');
  });

  it('proxy.forwarded_headers: any by default; original or forwarded; nothing else, naming the key', () => {
    assert.equal(validateConfig({ issuers: [OIDC] }).proxy.forwarded_headers, 'any');
    for (const mode of ['original', 'forwarded', 'any'] as const) {
      assert.equal(validateConfig({ issuers: [OIDC], proxy: { forwarded_headers: mode } }).proxy.forwarded_headers, mode);
    }
    assert.match(problemsOf({ issuers: [OIDC], proxy: { forwarded_headers: 'x-forwarded' } }).join('\n'), /^proxy\.forwarded_headers: /m);
    assert.match(problemsOf({ issuers: [OIDC], proxy: { trusted: true } }).join('\n'), /^proxy\.trusted: unknown key/m);
  });

  it('server.max_inflight and logging.buffer_bytes: defaults, and a bad value refused naming the key', () => {
    const config = validateConfig({ issuers: [OIDC] });
    assert.equal(config.server.max_inflight, 512);
    assert.equal(config.logging.buffer_bytes, 4 * 1024 * 1024);
    const problems = problemsOf({ issuers: [OIDC], server: { max_inflight: 0 }, logging: { buffer_bytes: 1024 } });
    assert.deepEqual(problems.map((p) => p.split(':')[0]).sort(), ['logging.buffer_bytes', 'server.max_inflight']);
    assert.deepEqual(
      problemsOf({ issuers: [OIDC], server: { max_inflight: 1.5 } }).map((p) => p.split(':')[0]),
      ['server.max_inflight'],
    );
  });

  it('names every bad key at once', () => {
    const problems = problemsOf({
      issuers: [OIDC, { id: 'b', type: 'entra', tenant: 'common', audiences: [] }],
      keys: { refresh_interval: 'soon', max_stale: '1m' },
      surprise: true,
    });
    for (const expected of [
      /^issuers\[1\]\.audiences: /,
      /^issuers\[1\]\.allowed_tenants: required for a multi-tenant issuer/,
      /^keys\.refresh_interval: not a duration/,
      /^surprise: unknown key/,
    ]) {
      assert.ok(
        problems.some((p) => expected.test(p)),
        `${expected} in ${JSON.stringify(problems)}`,
      );
    }
  });

  it('refuses key refetch durations below 1s (a fetch loop), naming the key; 1s itself is allowed', () => {
    const problems = problemsOf({ issuers: [OIDC], keys: { refresh_interval: '0s', max_stale: '0s', unknown_kid_cooldown: '999ms' } });
    assert.ok(
      problems.some((p) => /^keys\.refresh_interval: must be at least 1s/.test(p)),
      JSON.stringify(problems),
    );
    assert.ok(
      problems.some((p) => /^keys\.unknown_kid_cooldown: must be at least 1s/.test(p)),
      JSON.stringify(problems),
    );
    assert.deepEqual(
      problemsOf({ issuers: [OIDC], keys: { unknown_kid_cooldown: 0 } }).map((p) => p.split(':')[0]),
      ['keys.unknown_kid_cooldown'],
    );
    assert.deepEqual(
      problemsOf({ issuers: [OIDC], keys: { fetch_timeout: '0s' } }).map((p) => p.split(':')[0]),
      ['keys.fetch_timeout'],
    );
    const config = validateConfig({ issuers: [OIDC], keys: { refresh_interval: '1s', max_stale: '1s', unknown_kid_cooldown: 1 } });
    assert.equal(config.keys.refresh_interval, 1000);
    assert.equal(config.keys.unknown_kid_cooldown, 1000);
    assert.equal(config.keys.max_stale, 1000);
  });

  it('refuses durations a timer cannot wait for, and a key fetch timeout over 60s, naming the key', () => {
    const problems = problemsOf({
      issuers: [OIDC],
      keys: { fetch_timeout: '25d' },
      server: { shutdown_grace: '25d', shutdown_delay: '30d' },
    });
    assert.deepEqual(problems.map((p) => p.split(':')[0]).sort(), ['keys.fetch_timeout', 'server.shutdown_delay', 'server.shutdown_grace']);
    assert.ok(
      problems.some((p) => /^server\.shutdown_grace: must be at most 24d/.test(p)),
      problems.join('\n'),
    );
    assert.ok(
      problems.some((p) => /^keys\.fetch_timeout: must be at most 60s/.test(p)),
      problems.join('\n'),
    );
    const config = validateConfig({ issuers: [OIDC], keys: { fetch_timeout: '60s', max_stale: '24d' } });
    assert.equal(config.keys.fetch_timeout, 60_000);
  });

  it('refuses plain http for issuers, authorities and JWKS URIs, except on loopback', () => {
    assert.match(
      problemsOf({ issuers: [{ ...OIDC, issuer: 'http://idp.example.com' }] }).join('\n'),
      /^issuers\[0\]\.issuer: must be https/m,
    );
    assert.match(
      problemsOf({ issuers: [{ ...OIDC, jwks_uri: 'http://idp.example.com/keys' }] }).join('\n'),
      /^issuers\[0\]\.jwks_uri: must be https/m,
    );
    const entra = { id: 'e', type: 'entra', tenant: '72f988bf-86f1-41af-91ab-2d7cd011db47', audiences: ['api'] };
    assert.match(
      problemsOf({ issuers: [{ ...entra, authority: 'http://login.example' }] }).join('\n'),
      /^issuers\[0\]\.authority: must be https/m,
    );
    assert.deepEqual(
      problemsOf({
        issuers: [
          { ...entra, authority: 'http://127.0.0.1:8080' },
          { ...OIDC, issuer: 'http://localhost:9' },
        ],
      }),
      [],
    );
  });

  it('refuses a discovery document that points its jwks_uri at plain http', () => {
    const source = oidcSource(validateConfig({ issuers: [OIDC] }).issuers[0] as never);
    assert.throws(() => metadataFromDiscovery({ issuer: OIDC.issuer, jwks_uri: 'http://idp.example.com/keys' }, source), /must be https/);
    assert.throws(() => metadataFromDiscovery({ issuer: 'https://other.example', jwks_uri: 'https://x/keys' }, source), /differs/);
  });

  it('issuers[].jwks_hosts: a discovered jwks_uri on another host is refused unless that host is listed', () => {
    const sourceWith = (extra: Record<string, unknown>) =>
      oidcSource(validateConfig({ issuers: [{ ...OIDC, ...extra }] }).issuers[0] as never);
    const doc = (jwks_uri: string) => ({ issuer: OIDC.issuer, jwks_uri });
    assert.equal(metadataFromDiscovery(doc('https://idp.example.com/keys'), sourceWith({})).jwksUri, 'https://idp.example.com/keys');
    assert.throws(
      () => metadataFromDiscovery(doc('https://keys.example.net/jwks'), sourceWith({})),
      /another host .*jwks_hosts of issuer "idp"/,
    );
    assert.throws(() => metadataFromDiscovery(doc('https://idp.example.com:8443/keys'), sourceWith({})), /another host/);
    const listed = sourceWith({ jwks_hosts: ['Keys.Example.net', 'idp.example.com:8443'] });
    assert.ok(metadataFromDiscovery(doc('https://keys.example.net/jwks'), listed));
    assert.ok(metadataFromDiscovery(doc('https://keys.example.net:9443/jwks'), listed), 'a host without a port: any port');
    assert.ok(metadataFromDiscovery(doc('https://idp.example.com:8443/keys'), listed));
    assert.throws(() => metadataFromDiscovery(doc('https://idp.example.com:9000/keys'), listed), /another host/);
    const withDefaultPort = sourceWith({ jwks_hosts: ['keys.example.net:443'] });
    assert.ok(metadataFromDiscovery(doc('https://keys.example.net/jwks'), withDefaultPort), 'https://… is port 443');
    assert.throws(() => metadataFromDiscovery(doc('https://keys.example.net:8443/jwks'), withDefaultPort), /another host/);
    assert.match(
      problemsOf({ issuers: [{ ...OIDC, jwks_hosts: ['https://x.example/'] }] }).join('\n'),
      /^issuers\[0\]\.jwks_hosts\[0\]: must be a host/m,
    );
    assert.match(problemsOf({ issuers: [{ ...OIDC, jwks_hosts: [] }] }).join('\n'), /^issuers\[0\]\.jwks_hosts: /m);
    assert.match(
      problemsOf({ issuers: [{ ...OIDC, jwks_uri: 'https://idp.example.com/keys', jwks_hosts: ['x.example'] }] }).join('\n'),
      /^issuers\[0\]\.jwks_hosts: only with discovery/m,
    );
  });

  it('lets GATEHOUSE_GRPC_ADDRESS and GATEHOUSE_HTTP_ADDRESS override the listen addresses', () => {
    const text =
      'server: { grpc: "0.0.0.0:1", http: "0.0.0.0:2" }\nissuers: [{ id: idp, type: oidc, issuer: "https://idp.example.com", audiences: [api] }]\n';
    const config = parseConfigText(text, 'test.yaml', {
      GATEHOUSE_GRPC_ADDRESS: '127.0.0.1:7001',
      GATEHOUSE_HTTP_ADDRESS: '127.0.0.1:7002',
    });
    assert.deepEqual([config.server.grpc, config.server.http], ['127.0.0.1:7001', '127.0.0.1:7002']);
    assert.deepEqual([parseConfigText(text, 'test.yaml', {}).server.grpc], ['0.0.0.0:1']);
  });

  it('refuses YAML with duplicate keys, and a file that is not a mapping', () => {
    assert.throws(() => parseConfigText('issuers: []\nissuers: []\n', 'dup.yaml'), /not valid YAML/);
    assert.throws(() => parseConfigText('- a\n- b\n', 'list.yaml'), /must hold a YAML mapping/);
  });
});
