// A bug on the decision path (fault injected into the live engine) is INTERNAL with a fixed message that says the
// call was not authorized; the error itself goes to the log, never to the caller.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { status, type ServiceError } from '@grpc/grpc-js';
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
