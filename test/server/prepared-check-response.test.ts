// Envoy's CheckResponse encoded around prepared identity headers and dynamic metadata: the plain encoder's bytes,
// for allowed answers with and without headers to remove, and denials; the parts are shared per principal and rule.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ServiceDefinition } from '@grpc/grpc-js';
import type { Principal } from '../../src/contract/principal.js';
import { entraPrincipal } from '../helpers/principal.js';
import { ENVOY_AUTHORIZATION_SERVICE, loadEnvoyAuthProto, loadEnvoyAuthTypes } from '../../src/contract/proto.js';
import { authorizeOutcome, type AllowedOutcome, type DeniedOutcome } from '../../src/decisions/outcome.js';
import { allow } from '../../src/policy/decision.js';
import type { EnvoyRequest } from '../../src/server/envoy-request.js';
import { allowResponse, denyResponse } from '../../src/server/envoy-response.js';
import { checkResponseEncoder, withPreparedCheckResponse } from '../../src/server/prepared-check-response.js';

const plain = (loadEnvoyAuthProto()[ENVOY_AUTHORIZATION_SERVICE] as ServiceDefinition).Check!;
const prepared = checkResponseEncoder(loadEnvoyAuthTypes());

const principal = entraPrincipal({ roles: ['Orders.Read', 'Odd,Role é'] });
const request = (foreign: string[], grpc = false): EnvoyRequest => ({
  action: 'GET /orders/1',
  grpc,
  requestId: 'r-1',
  token: 'eyJ.x.y',
  foreignIdentityHeaders: foreign,
  facts: {},
});
const allowed = (rule: string, who: Principal | undefined = principal) =>
  authorizeOutcome(allow(rule, who === undefined), who, 60_000, true) as AllowedOutcome;

describe('prepared CheckResponse', () => {
  it('an allowed answer: the plain encoder bytes, with this call’s headers to remove, decoding to the same message', () => {
    const cases = [
      allowResponse(allowed('orders-read'), request([]), false),
      allowResponse(allowed('orders-read'), request([]), true),
      allowResponse(allowed('orders-read'), request(['x-gatehouse-role', 'x-gatehouse-admin']), true),
      allowResponse(allowed('other-rule'), request(['x-gatehouse-x']), false),
      allowResponse(allowed('public', undefined), request([]), false),
    ];
    for (const response of cases) {
      const expected = plain.responseSerialize(response);
      const actual = prepared(response);
      assert.deepEqual(actual, expected, JSON.stringify(response));
      assert.deepEqual(plain.responseDeserialize(actual), plain.responseDeserialize(expected));
    }
  });

  it('the identity headers and dynamic metadata are built once per principal and rule, and frozen', () => {
    const a = allowResponse(allowed('orders-read'), request([]), false);
    const b = allowResponse(allowed('orders-read'), request(['x-gatehouse-y']), true);
    const c = allowResponse(allowed('other-rule'), request([]), false);
    assert.equal(a.okResponse!.headers, b.okResponse!.headers);
    assert.equal(a.dynamicMetadata, b.dynamicMetadata);
    assert.notEqual(a.dynamicMetadata, c.dynamicMetadata);
    assert.deepEqual(b.okResponse!.headersToRemove, ['x-gatehouse-y', 'authorization']);
    assert.deepEqual(a.okResponse!.headersToRemove, []);
    assert.equal(Object.isFrozen(a.okResponse!.headers), true);
  });

  it('a denial: the plain encoder bytes', () => {
    const denied = authorizeOutcome(
      { allowed: false, reason: 'MISSING_ROLE', message: 'needs Orders.Write', rule: 'orders-write' },
      principal,
      0,
      false,
    ) as DeniedOutcome;
    for (const response of [denyResponse(denied, request([])), denyResponse(denied, request([], true))]) {
      assert.deepEqual(prepared(response), plain.responseSerialize(response));
    }
  });

  it('the service keeps its path and request decoding', () => {
    const service = withPreparedCheckResponse(loadEnvoyAuthProto()[ENVOY_AUTHORIZATION_SERVICE] as ServiceDefinition, prepared);
    assert.equal(service.Check!.path, plain.path);
    assert.equal(service.Check!.responseSerialize, prepared);
  });
});
