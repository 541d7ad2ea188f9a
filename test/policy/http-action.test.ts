// HTTP requests as actions: "<METHOD> <path>" patterns, and canonical paths only. A non-canonical path is refused
// with PATH_NOT_CANONICAL before any rule is consulted, even a public catch-all.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compilePattern, covers, PatternError } from '../../src/policy/action-pattern.js';
import { authorize, decideWithoutToken } from '../../src/policy/authorize.js';
import { compileRules } from '../../src/policy/compile-rules.js';
import { httpAction, isHttpAction, refuseNonCanonical } from '../../src/policy/http-action.js';

const matches = (pattern: string, action: string) => compilePattern(pattern).matches(action);

describe('HTTP action patterns', () => {
  it('match the method exactly (or any with *) and the path segment by segment', () => {
    assert.equal(matches('GET /orders/*', 'GET /orders/42'), true);
    assert.equal(matches('GET /orders/*', 'POST /orders/42'), false);
    assert.equal(matches('GET /orders/*', 'GETX /orders/42'), false);
    assert.equal(matches('GET /orders/*', 'GET /orders/42/items'), false, '* never crosses "/"');
    assert.equal(matches('GET /orders/*', 'GET /orders/'), false, 'a matched segment is never empty');
    assert.equal(matches('GET /orders/*/items', 'GET /orders/42/items'), true);
    assert.equal(matches('* /health', 'GET /health'), true);
    assert.equal(matches('* /health', 'DELETE /health'), true);
    assert.equal(matches('* /health', 'GET /healthz'), false);
    assert.equal(matches('DELETE /orders/*', 'DELETE /orders/7'), true);
    assert.equal(compilePattern('GET /health').kind, 'exact');
    assert.equal(matches('GET /health', 'GET /health'), true);
    assert.equal(matches('GET /v1/item*', 'GET /v1/items'), true);
  });

  it('never match another kind of action, and never cover one', () => {
    assert.equal(matches('GET /orders.v1.Orders/*', '/orders.v1.Orders/GetOrder'), false);
    assert.equal(matches('/orders.v1.Orders/*', 'GET /orders.v1.Orders/GetOrder'), false);
    assert.equal(covers(compilePattern('* /a/*'), compilePattern('GET /a/b')), true);
    assert.equal(covers(compilePattern('GET /a/*'), compilePattern('POST /a/b')), false);
    assert.equal(covers(compilePattern('* /x'), compilePattern('/a.B/x')), false);
    assert.equal(covers(compilePattern('/a.B/*'), compilePattern('GET /a.B/x')), false);
  });

  it('refuse patterns that could never match a canonical path, naming why', () => {
    for (const [pattern, why] of [
      ['get /orders', /whitespace/],
      ['GET orders/*', /whitespace/],
      ['GET /orders/../admin', /"\." or "\.\." segment/],
      ['GET /orders//x', /empty segment/],
      ['GET /orders/%2F', /no "%"/],
      ['GET /a\\b', /control character, whitespace, "\\"/],
      ['GET /a/**', /"\*\*"/],
      ['GET /a/b*c', /may only end a segment/],
      ['GET  /a', /whitespace/],
    ] as const) {
      assert.throws(
        () => compilePattern(pattern),
        (err: unknown) => err instanceof PatternError && why.test(err.message),
        pattern,
      );
    }
  });
});

describe('canonical paths', () => {
  it('the action drops the query string and fragment, nothing else', () => {
    assert.equal(httpAction('GET', '/orders/42?expand=items#top'), 'GET /orders/42');
    // A fragment is never sent: one in a request target stays, to be refused (a proxy passes it upstream whole).
    assert.equal(httpAction('GET', '/public/x#/../../admin'), 'GET /public/x#/../../admin');
    assert.notEqual(refuseNonCanonical(httpAction('GET', '/public/x#/../../admin')), undefined);
    assert.equal(httpAction('GET', '/orders/..%2fadmin?x'), 'GET /orders/..%2fadmin');
    assert.equal(isHttpAction('GET /x'), true);
    assert.equal(isHttpAction('/orders.v1.Orders/GetOrder'), false);
    assert.equal(isHttpAction('orders:read'), false);
  });

  it('accepts canonical paths', () => {
    for (const path of ['/', '/orders', '/orders/', '/orders/42', '/files/my%20doc', '/caf%C3%A9', '/a:b@c', '/x-y_z~w.json']) {
      assert.equal(refuseNonCanonical(`GET ${path}`), undefined, path);
    }
  });

  it('refuses every non-canonical form', () => {
    const refused = [
      'orders/42',
      '',
      '//orders',
      '/orders//42',
      '/orders/../admin',
      '/orders/./42',
      '/..',
      '/orders/..%2fadmin',
      '/orders/%2e%2e/admin',
      '/orders%2F42',
      '/orders%5c42',
      '/orders/%2E',
      '/%61dmin',
      '/orders/%7e',
      '/orders\\..\\admin',
      '/orders;jsessionid=1/../admin',
      '/orders/%',
      '/orders/%zz',
      '/orders/4 2',
      '/orders/\t',
      '/orders/\u0000',
      '/orders/\u007f',
      '/orders\r\nx-injected: 1',
      '/orders?x',
      '/orders#x',
      '/public/x%00',
      '/public/%0d%0aX-Injected:1',
      '/public/%7f',
      '/public/%C0%AE%C0%AE/admin',
      '/public/%c1%9c',
      'http://evil.example/orders',
    ];
    for (const path of refused) assert.notEqual(refuseNonCanonical(`GET ${path}`), undefined, JSON.stringify(path));
    assert.match(refuseNonCanonical('get /orders')!, /upper-case/);
    assert.match(refuseNonCanonical(' /orders')!, /upper-case/);
  });

  it('the engine refuses a non-canonical path before any rule, even a public catch-all', () => {
    const policy = compileRules(
      [
        { id: 'open', actions: ['* /*', '* /orders/*'], public: true },
        { id: 'all', actions: ['*'], public: true },
      ] as never,
      {},
      [],
    );
    for (const action of ['GET /orders/../admin', 'GET /orders/..%2fadmin', 'GET //admin']) {
      const early = decideWithoutToken(policy, action);
      assert.equal(early?.allowed, false, action);
      assert.equal(early?.allowed === false && early.reason, 'PATH_NOT_CANONICAL', action);
      const decided = authorize(policy, undefined, action);
      assert.equal(decided.allowed === false && decided.reason, 'PATH_NOT_CANONICAL', action);
    }
    assert.equal(decideWithoutToken(policy, 'GET /orders/42')?.allowed, true);
  });
});
