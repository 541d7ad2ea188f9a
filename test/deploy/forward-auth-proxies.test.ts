// The shipped deploy/nginx/gatehouse.conf and deploy/caddy/Caddyfile, run by Debian's real nginx and caddy (with
// only their addresses changed) in front of an upstream that echoes what it receives, with gatehouse deciding
// through /v1/authz: allowed requests arrive with the identity headers, forged ones never do, refusals stop at the
// proxy with their status, X-Gatehouse-Reason and WWW-Authenticate, and /orders/../admin is no /orders/* request.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startCaddy } from '../helpers/caddy.js';
import { startTestGatehouse, type TestGatehouse } from '../helpers/gatehouse.js';
import { startNginx } from '../helpers/nginx.js';
import type { RunningProxy } from '../helpers/proxy-process.js';
import { rawRequest, startEchoUpstream, type EchoUpstream } from '../helpers/raw-http.js';
import { LOOPBACK_AUDIENCE, startLoopbackIssuer, type LoopbackIssuer } from '../verification/loopback-issuer.js';

interface ProxyCase {
  readonly name: string;
  readonly start: (gatehousePort: number, upstreamPort: number) => Promise<RunningProxy>;
  /** The forwarded-URI header this proxy does not set: a client adding it must not be believed. */
  readonly otherFamily: readonly [string, string];
}

const PROXIES: readonly ProxyCase[] = [
  { name: 'nginx (auth_request)', start: startNginx, otherFamily: ['X-Forwarded-Uri', '/health'] },
  { name: 'caddy (forward_auth)', start: startCaddy, otherFamily: ['X-Original-URI', '/health'] },
];

for (const proxyCase of PROXIES) {
  describe(`forward auth behind ${proxyCase.name}, with the shipped config`, () => {
    let issuer: LoopbackIssuer;
    let gh: TestGatehouse;
    let upstream: EchoUpstream;
    let proxy: RunningProxy;
    let reader: string;

    before(async () => {
      issuer = await startLoopbackIssuer();
      gh = await startTestGatehouse({
        issuers: [{ id: 'idp', type: 'oidc', issuer: issuer.issuer, audiences: [LOOPBACK_AUDIENCE] }],
        rules: [
          { id: 'orders-read', actions: ['GET /orders/*'], any_roles: ['Orders.Read'] },
          { id: 'health', actions: ['* /health'], public: true },
        ],
      });
      upstream = await startEchoUpstream();
      proxy = await proxyCase.start(gh.gatehouse.httpPort, upstream.port);
      reader = issuer.token({ claims: { sub: 'alice', roles: ['Orders.Read'] } });
    });
    after(async () => {
      await proxy?.stop();
      await upstream?.close();
      await gh?.close();
      await issuer?.close();
    });

    /** Sends through the proxy; returns the answer and what the upstream received (undefined: it was never reached). */
    const send = async (method: string, target: string, headers: [string, string][] = []) => {
      const before = upstream.received.length;
      const res = await rawRequest(proxy.port, method, target, headers);
      return { res, reached: upstream.received.slice(before)[0] };
    };
    const bearer = (token: string): [string, string] => ['Authorization', `Bearer ${token}`];

    it('passes an allowed request upstream, as sent, with the identity headers', async () => {
      const { res, reached } = await send('GET', '/orders/42?expand=items', [bearer(reader)]);
      assert.equal(res.status, 200, `${res.body}\n${proxy.log()}`);
      assert.ok(reached, 'the upstream got the request');
      assert.equal(reached.url, '/orders/42?expand=items');
      assert.deepEqual(reached.distinct['x-gatehouse-subject'], ['alice']);
      assert.deepEqual(reached.distinct['x-gatehouse-issuer'], ['idp']);
      assert.deepEqual(reached.distinct['x-gatehouse-roles'], ['Orders.Read']);
      // No tenant claim: Caddy passes the empty header; nginx does not send a header set to "" at all.
      assert.ok([undefined, ''].includes(reached.headers['x-gatehouse-tenant'] as string | undefined));
      assert.doesNotMatch(JSON.stringify(reached.headers), /\{http\./, 'no Caddy placeholder text reaches the upstream');
      // The decision is audited under the http door.
      assert.ok(gh.logs.audit().some((line) => line.door === 'http' && line.action === 'GET /orders/42' && line.allowed));
    });

    it('never lets a client-sent X-Gatehouse-* identity reach the upstream', async () => {
      const forged: [string, string][] = [
        ['X-Gatehouse-Subject', 'admin'],
        ['X-Gatehouse-Roles', 'Orders.Admin'],
        ['X-Gatehouse-Tenant', 'forged-tenant'],
        ['X-Gatehouse-Reason', 'forged'],
        // CGI-style upstreams read these as the real names (nginx drops them; Caddy must too).
        ['X_Gatehouse_Subject', 'admin'],
        ['X-Gatehouse_Roles', 'Orders.Admin'],
        ['X_Gatehouse-Tenant', 'forged-tenant'],
      ];
      const { res, reached } = await send('GET', '/orders/42', [bearer(reader), ...forged]);
      assert.equal(res.status, 200);
      assert.deepEqual(reached?.distinct['x-gatehouse-subject'], ['alice']);
      assert.deepEqual(reached?.distinct['x-gatehouse-roles'], ['Orders.Read']);
      assert.ok([undefined, ''].includes(reached?.headers['x-gatehouse-tenant'] as string | undefined), 'the forged tenant is gone');
      assert.equal(reached?.headers['x-gatehouse-reason'], undefined);
      assert.doesNotMatch(JSON.stringify(reached?.headers), /admin|forged/i);
      // Through a public rule too (no token: every identity header empty, the forged ones still gone).
      const open = await send('GET', '/health', forged);
      assert.equal(open.res.status, 200);
      assert.doesNotMatch(JSON.stringify(open.reached?.headers), /admin|forged/i);
    });

    it('stops a request without a token or with a bad one: 401, the challenge and the reason', async () => {
      const missing = await send('GET', '/orders/42');
      assert.equal(missing.res.status, 401);
      assert.equal(missing.reached, undefined);
      assert.equal(missing.res.header('x-gatehouse-reason'), 'TOKEN_MISSING');
      assert.deepEqual(missing.res.headers['www-authenticate'], ['Bearer realm="gatehouse"']);
      const expired = await send('GET', '/orders/42', [bearer(issuer.token({ claims: { exp: 1000, roles: ['Orders.Read'] } }))]);
      assert.equal(expired.res.status, 401);
      assert.equal(expired.reached, undefined);
      assert.equal(expired.res.header('x-gatehouse-reason'), 'TOKEN_EXPIRED');
      assert.match(
        expired.res.header('www-authenticate') ?? '',
        /^Bearer realm="gatehouse", error="invalid_token", error_description="TOKEN_EXPIRED: /,
      );
      assert.equal(expired.res.headers['www-authenticate']?.length, 1);
    });

    it("stops a request the rules refuse: 403, insufficient_scope and the reason; the method is the client's", async () => {
      const noRole = await send('GET', '/orders/42', [bearer(issuer.token({ claims: { roles: ['Other'] } }))]);
      assert.equal(noRole.res.status, 403);
      assert.equal(noRole.reached, undefined);
      assert.equal(noRole.res.header('x-gatehouse-reason'), 'MISSING_ROLE');
      assert.match(noRole.res.header('www-authenticate') ?? '', /error="insufficient_scope"/);
      // The proxy's subrequest is a GET whatever the client sent: the original method is what is decided.
      const deleted = await send('DELETE', '/orders/42', [bearer(reader)]);
      assert.equal(deleted.res.status, 403);
      assert.equal(deleted.reached, undefined);
      assert.equal(deleted.res.header('x-gatehouse-reason'), 'NO_MATCHING_RULE');
    });

    it('never lets a "#" carry a path past a public rule (/health#/../admin)', async () => {
      for (const target of ['/health#/../admin', '/health#/../../orders/42', '/orders/42#/../../admin']) {
        const { res, reached } = await send('GET', target, [bearer(reader)]);
        assert.ok(res.status >= 400, `${target}: ${res.status}`);
        assert.equal(reached, undefined, `${target} reached the upstream`);
      }
    });

    it('never allows /orders/../admin or /orders/..%2fadmin by the GET /orders/* rule', async () => {
      for (const target of ['/orders/../admin', '/orders/..%2fadmin', '/orders/..%2Fadmin', '/orders/%2e%2e/admin']) {
        const { res, reached } = await send('GET', target, [bearer(reader)]);
        assert.notEqual(res.status, 200, target);
        assert.equal(reached, undefined, `${target} reached the upstream`);
        assert.equal(res.status, 403, target);
        assert.equal(res.header('x-gatehouse-reason'), 'PATH_NOT_CANONICAL', target);
      }
    });

    it('refuses a client adding the forwarded-URI header of the other family (the proxy sets its own)', async () => {
      const { res, reached } = await send('GET', '/orders/42', [bearer(reader), [...proxyCase.otherFamily]]);
      assert.equal(res.status, 400);
      assert.equal(reached, undefined);
      assert.equal(res.header('x-gatehouse-reason'), 'FORWARD_MALFORMED');
      // The same family as the proxy's: the proxy's own value replaces the client's.
      const [own] = proxyCase.otherFamily[0] === 'X-Forwarded-Uri' ? ['X-Original-URI'] : ['X-Forwarded-Uri'];
      const spoofed = await send('GET', '/orders/42', [[own, '/health']]);
      assert.equal(spoofed.res.status, 401, 'decided for /orders/42, not for the public /health');
      assert.equal(spoofed.reached, undefined);
    });

    it('refuses two Authorization headers (the proxy itself, or gatehouse as FORWARD_MALFORMED)', async () => {
      const { res, reached } = await send('GET', '/orders/42', [bearer(reader), bearer(reader)]);
      assert.equal(res.status, 400);
      assert.equal(reached, undefined);
    });
  });
}
