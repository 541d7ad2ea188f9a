import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { compilePattern, covers, PatternError } from '../../src/policy/action-pattern.js';
import { bindParams } from '../../src/policy/path-params.js';

const params = (pattern: string, action: string) => Object.fromEntries(bindParams(compilePattern(pattern), action));

describe('named path segments', () => {
  it('match like "*" in their one segment (HTTP and gRPC patterns)', () => {
    const http = compilePattern('GET /users/{user}/orders/*');
    assert.equal(http.matches('GET /users/u1/orders/7'), true);
    assert.equal(http.matches('GET /users/u1/x/orders/7'), false);
    assert.equal(http.matches('GET /users//orders/7'), false);
    assert.equal(http.matches('POST /users/u1/orders/7'), false);
    const last = compilePattern('GET /orders/{order_id}');
    assert.equal(last.matches('GET /orders/42'), true);
    assert.equal(last.matches('GET /orders/42/items'), false);
    assert.equal(last.matches('GET /orders/'), false);
    const grpc = compilePattern('/orders.v1.Orders/{method}');
    assert.equal(grpc.matches('/orders.v1.Orders/GetOrder'), true);
    assert.equal(grpc.matches('/orders.v1.Other/GetOrder'), false);
  });

  it('bind params from the matched action', () => {
    assert.deepEqual(params('GET /users/{user}/orders/{order}', 'GET /users/u1/orders/7'), { user: 'u1', order: '7' });
    assert.deepEqual(params('* /t/{tenant}/*', 'DELETE /t/contoso/x'), { tenant: 'contoso' });
    assert.deepEqual(params('/orders.v1.Orders/{method}', '/orders.v1.Orders/GetOrder'), { method: 'GetOrder' });
    assert.deepEqual(params('GET /orders/*', 'GET /orders/7'), {});
  });

  it('a named segment covers and is covered like "*"', () => {
    assert.equal(covers(compilePattern('GET /orders/*'), compilePattern('GET /orders/{id}')), true);
    assert.equal(covers(compilePattern('GET /orders/{id}'), compilePattern('GET /orders/7')), true);
  });

  it('refuses duplicate names, names that are not identifiers, partial segments, and custom actions', () => {
    const refused = (pattern: string, why: RegExp) =>
      assert.throws(
        () => compilePattern(pattern),
        (e) => e instanceof PatternError && why.test(e.message),
      );
    refused('GET /a/{x}/b/{x}', /"x" is used twice/);
    refused('GET /a/{1x}', /identifier/);
    refused('GET /a/{x-y}', /identifier/);
    refused('GET /a/{}', /identifier/);
    refused('GET /a/id{x}', /whole segment/);
    refused('GET /a/{x}*', /whole segment/);
    refused('{x}', /custom action/);
  });
});
