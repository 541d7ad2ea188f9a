// A bug on the decision path (fault injected into the live engine) is INTERNAL with a fixed message that says the
// call was not authorized; the error itself goes to the log, never to the caller.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import type { Authorizer } from '../../src/decisions/authorizer.js';
import { authServiceHandlers } from '../../src/server/auth-service.js';
import { envoyCheckHandlers } from '../../src/server/envoy-check.js';
import type { DecisionHooks } from '../../src/server/telemetry-hooks.js';
import { INTERNAL_MESSAGE } from '../../src/server/to-status.js';
import { startTestGatehouse, type TestGatehouse } from '../helpers/gatehouse.js';

describe('a bug on the decision path', () => {
  let gh: TestGatehouse;
  before(async () => {
    gh = await startTestGatehouse(
      { issuers: [{ id: 'idp', type: 'oidc', issuer: 'http://127.0.0.1:9/', audiences: ['api'] }] },
      { level: 'info', waitForKeys: false },
    );
  });
  after(() => gh.close());

  it('is INTERNAL with a fixed message; the log has the error and the request id', async () => {
    const engine = gh.gatehouse.authorizer();
    engine.answerMany = () => {
      throw new Error('boom: secret internals');
    };
    try {
      await assert.rejects(
        gh.client.authorize('a.b.c', '/x.v1.X/Y', { requestId: 'bug-1' }),
        (err: ServiceError) => err.code === status.INTERNAL && err.details === INTERNAL_MESSAGE && !/boom/.test(err.details),
      );
      const logged = gh.logs.parsed().find((l) => l.request_id === 'bug-1' && l.level === 'error');
      assert.ok(logged, 'an error line for the request');
      assert.match(JSON.stringify(logged.err), /boom/);
    } finally {
      delete (engine as Partial<typeof engine>).answerMany;
    }
  });

  it('is the same when the fault comes later, while a token is being verified', async () => {
    const engine = gh.gatehouse.authorizer();
    engine.answerMany = () => Promise.reject(new Error('boom: later'));
    try {
      await assert.rejects(
        gh.client.authorize('a.b.c', '/x.v1.X/Y', { requestId: 'bug-2' }),
        (err: ServiceError) => err.code === status.INTERNAL && err.details === INTERNAL_MESSAGE && !/boom/.test(err.details),
      );
      const logged = gh.logs.parsed().find((l) => l.request_id === 'bug-2' && l.level === 'error');
      assert.match(JSON.stringify(logged?.err), /boom: later/);
    } finally {
      delete (engine as Partial<typeof engine>).answerMany;
    }
  });
});

describe('a fault while logging a fault', () => {
  it('still answers INTERNAL on Authorize and Check (a call left unanswered would hold its slot until its deadline)', async () => {
    const boom = () => Promise.reject(new Error('boom: engine'));
    const authorizer = { answer: boom, answerMany: boom } as unknown as Authorizer;
    const hooks = {
      onAuthorize() {},
      onVerify() {},
      onInternalError() {
        throw new Error('boom: the log');
      },
    } as unknown as DecisionHooks;
    const answered = (invoke: (callback: (err: ServiceError | null) => void) => void) =>
      new Promise<ServiceError | null>((resolve) => invoke(resolve));
    const metadata = new Metadata();
    const authorize = authServiceHandlers({ authorizer: () => authorizer, hooks, shuttingDown: () => false }).Authorize as (
      call: unknown,
      callback: (err: ServiceError | null) => void,
    ) => void;
    const request = { token: 'a.b.c', action: '/x.v1.X/Y', attributes: {} };
    const viaAuthorize = await answered((callback) => authorize({ request, metadata, sendMetadata() {} }, callback));
    assert.equal(viaAuthorize?.code, status.INTERNAL);
    const check = envoyCheckHandlers({ authorizer: () => authorizer, hooks, shuttingDown: () => false, stripAuthorization: () => false })
      .Check as (call: unknown, callback: (err: ServiceError | null) => void) => void;
    const checkRequest = {
      attributes: { request: { http: { method: 'GET', path: '/orders/1', host: 'orders', headers: { authorization: 'Bearer a.b.c' } } } },
    };
    const viaCheck = await answered((callback) => check({ request: checkRequest, metadata, sendMetadata() {} }, callback));
    assert.equal(viaCheck?.code, status.INTERNAL);
  });
});
