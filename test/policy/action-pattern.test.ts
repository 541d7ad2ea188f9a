import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ActionIndex, compilePattern, covers, PatternError } from '../../src/policy/action-pattern.js';

const matches = (pattern: string, action: string) => compilePattern(pattern).matches(action);

describe('compilePattern', () => {
  it('matches an exact gRPC method and nothing else', () => {
    assert.equal(matches('/orders.v1.Orders/GetOrder', '/orders.v1.Orders/GetOrder'), true);
    assert.equal(matches('/orders.v1.Orders/GetOrder', '/orders.v1.Orders/GetOrders'), false);
    assert.equal(matches('/orders.v1.Orders/GetOrder', '/orders.v1.Orders/getorder'), false);
    assert.equal(compilePattern('/orders.v1.Orders/GetOrder').kind, 'exact');
  });

  it('matches an exact custom action', () => {
    assert.equal(matches('orders:read', 'orders:read'), true);
    assert.equal(matches('orders:read', 'orders:readall'), false);
  });

  it('treats a trailing * as a suffix wildcard within the segment', () => {
    assert.equal(matches('/orders.v1.Orders/Get*', '/orders.v1.Orders/GetOrder'), true);
    assert.equal(matches('/orders.v1.Orders/Get*', '/orders.v1.Orders/Get'), true);
    assert.equal(matches('/orders.v1.Orders/Get*', '/orders.v1.Orders/ListOrders'), false);
    assert.equal(matches('/orders.v1.Orders/Get*', '/orders.v1.OrdersX/GetOrder'), false);
    assert.equal(matches('orders:*', 'orders:write'), true);
    assert.equal(matches('orders:*', 'billing:write'), false);
  });

  it('treats a whole-segment * as any non-empty segment', () => {
    assert.equal(matches('/orders.v1.Orders/*', '/orders.v1.Orders/Anything'), true);
    assert.equal(matches('/orders.v1.Orders/*', '/orders.v1.Orders/'), false);
    assert.equal(matches('/orders.v1.*/GetOrder', '/orders.v1.Orders/GetOrder'), true);
    assert.equal(matches('/orders.v1.*/GetOrder', '/orders.v1.Admin/GetOrder'), true);
    assert.equal(matches('/orders.v1.*/GetOrder', '/orders.v2.Orders/GetOrder'), false);
    assert.equal(matches('/orders.v1.*/GetOrder', '/orders.v1.Orders/ListOrders'), false);
    assert.equal(matches('/*/Check', '/envoy.Auth/Check'), true);
  });

  it('never lets * cross a "/"', () => {
    assert.equal(matches('/orders.v1.*/GetOrder', '/orders.v1.Orders/X/GetOrder'), false);
    assert.equal(matches('/orders.v1.Orders/*', '/orders.v1.Orders/Get/Order'), false);
  });

  it('matches everything with a lone *', () => {
    const any = compilePattern('*');
    assert.equal(any.kind, 'any');
    assert.equal(any.matches('/a.B/C'), true);
    assert.equal(any.matches('orders:read'), true);
  });

  it('escapes everything but *: regex metacharacters are literal', () => {
    assert.equal(matches('orders.read', 'ordersXread'), false);
    assert.equal(matches('a+b:*', 'a+b:c'), true);
    assert.equal(matches('a+b:*', 'aab:c'), false);
    assert.equal(matches('(x|y):*', 'x:1'), false);
  });

  const invalid: Array<[string, RegExp]> = [
    ['', /empty pattern/],
    ['/orders.v1.Orders/**', /"\*\*"/],
    ['**', /"\*\*"/],
    ['/orders.v1.Orders/Get*Order', /may only end a segment/],
    ['/orders.v1.*.Orders/Get', /may only end a segment/],
    ['/orders.v1.Orders', /exactly two "\/"/],
    ['/orders.v1.Orders/Get/X', /exactly two "\/"/],
    ['//GetOrder', /service name is empty/],
    ['/orders.v1.Orders/', /method name is empty/],
    ['/orders.v1.Orders/Get-Order', /can never match a gRPC method/],
    ['/orders..v1.Orders/Get', /can never match a gRPC method/],
    ['/orders.v1./Get', /ends with "."/],
    ['orders.v1.Orders/GetOrder', /starts with "\/"/],
    ['orders: read', /whitespace/],
  ];
  for (const [pattern, why] of invalid) {
    it(`rejects ${JSON.stringify(pattern)}`, () => {
      assert.throws(
        () => compilePattern(pattern),
        (err: unknown) => err instanceof PatternError && why.test(err.message),
      );
    });
  }
});

describe('covers', () => {
  const c = (outer: string, inner: string) => covers(compilePattern(outer), compilePattern(inner));
  it('knows which patterns contain which', () => {
    assert.equal(c('*', '/a.B/C'), true);
    assert.equal(c('*', '*'), true);
    assert.equal(c('/a.B/*', '*'), false);
    assert.equal(c('/a.B/*', '/a.B/Get*'), true);
    assert.equal(c('/a.B/Get*', '/a.B/*'), false);
    assert.equal(c('/a.B/Get*', '/a.B/GetX'), true);
    assert.equal(c('/a.*/C', '/a.B/C'), true);
    assert.equal(c('/a.*/C', '/a.B/D'), false);
    assert.equal(c('/a.B/C', '/a.B/C'), true);
    assert.equal(c('/a.B/C', '/a.B/D'), false);
    assert.equal(c('orders:*', 'orders:read'), true);
    assert.equal(c('orders:*', '/orders.v1.O/R'), false);
  });
});

describe('ActionIndex', () => {
  const rules = [
    ['/orders.v1.Orders/GetOrder'],
    ['/orders.v1.Orders/Get*', 'orders:read'],
    ['/orders.v1.*/List*'],
    ['orders:*'],
    ['/orders.v1.Orders/*'],
    ['*'],
  ].map((patterns) => patterns.map(compilePattern));
  const index = new ActionIndex(rules);

  it('returns the first rule in config order whose pattern matches', () => {
    assert.equal(index.firstMatch('/orders.v1.Orders/GetOrder'), 0);
    assert.equal(index.firstMatch('/orders.v1.Orders/GetOrders'), 1);
    assert.equal(index.firstMatch('orders:read'), 1);
    assert.equal(index.firstMatch('/orders.v1.Orders/ListOrders'), 2);
    assert.equal(index.firstMatch('orders:write'), 3);
    assert.equal(index.firstMatch('/orders.v1.Orders/Delete'), 4);
    assert.equal(index.firstMatch('/billing.v1.Billing/Pay'), 5);
  });

  it('agrees with testing every pattern in order', () => {
    const actions = ['/orders.v1.Orders/GetOrder', '/orders.v1.Admin/ListAll', 'orders:', 'x', '/a/b', '', '/orders.v1.Orders/'];
    for (const action of actions) {
      const linear = rules.findIndex((patterns) => patterns.some((p) => p.matches(action)));
      assert.equal(index.firstMatch(action), linear, action);
    }
  });

  it('returns -1 when nothing matches', () => {
    assert.equal(new ActionIndex([[compilePattern('orders:read')]]).firstMatch('orders:write'), -1);
  });

  it('keeps the earlier rule when an exact pattern repeats', () => {
    const twice = new ActionIndex([[compilePattern('/a.B/C')], [compilePattern('/a.B/C')]]);
    assert.equal(twice.firstMatch('/a.B/C'), 0);
  });
});
