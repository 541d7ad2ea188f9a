// Requests are bounded before they are decoded: an oversized message is cut off by the transport, a message that
// fits but repeats a field past its bound (half a million empty attributes, say) is refused unread, and the
// server keeps answering honest calls meanwhile. Through the real server, on raw bytes.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client, credentials, Metadata, status, type ServiceDefinition, type ServiceError } from '@grpc/grpc-js';
import { AUTH_SERVICE_NAME, loadGatehouseProto } from '../../src/contract/proto.js';
import { MAX_ATTRIBUTE_KEY_BYTES, MAX_ATTRIBUTE_VALUE_BYTES, MAX_ATTRIBUTES, MAX_BATCH_ACTIONS } from '../../src/server/request-limits.js';
import { startTestGatehouse, type TestGatehouse } from '../helpers/gatehouse.js';

const PUBLIC_ACTION = 'ping:check';
const service = loadGatehouseProto()[AUTH_SERVICE_NAME] as ServiceDefinition;

/** `count` empty entries of field 3 (`attributes`): two bytes each, the cheapest map entry to send. */
function emptyAttributes(count: number): Buffer {
  return Buffer.alloc(count * 2, Buffer.from([0x1a, 0x00]));
}

describe('request limits, checked before decoding', () => {
  let gh: TestGatehouse;
  let client: Client;

  before(async () => {
    gh = await startTestGatehouse(
      {
        issuers: [{ id: 'idp', type: 'oidc', issuer: 'http://127.0.0.1:9/', audiences: ['api'] }],
        rules: [{ id: 'ping', actions: [PUBLIC_ACTION], public: true }],
      },
      { level: 'silent', waitForKeys: false },
    );
    client = new Client(gh.address, credentials.createInsecure(), { 'grpc.max_send_message_length': -1 });
  });
  after(async () => {
    client.close();
    await gh.close();
  });

  const raw = (method: string, bytes: Buffer) =>
    new Promise<{ code: status; details: string }>((resolve) =>
      client.makeUnaryRequest(
        `/${AUTH_SERVICE_NAME}/${method}`,
        (b: Buffer) => b,
        (b: Buffer) => b,
        bytes,
        new Metadata(),
        { deadline: Date.now() + 20_000 },
        (err: ServiceError | null) => resolve(err ? { code: err.code, details: err.details } : { code: status.OK, details: '' }),
      ),
    );
  const authorize = (attributes: Record<string, string>) =>
    raw('Authorize', service.Authorize!.requestSerialize({ token: '', action: PUBLIC_ACTION, attributes }));

  it('a 4 MiB flood of empty attributes is refused by the transport, unread, and honest calls still pass', async () => {
    const flood = Buffer.concat([service.Authorize!.requestSerialize({ token: '', action: PUBLIC_ACTION }), emptyAttributes(2_000_000)]);
    const floods = [raw('Authorize', flood), raw('Authorize', flood), raw('Authorize', flood)];
    const honest = await Promise.all(Array.from({ length: 10 }, () => gh.client.authorize('', PUBLIC_ACTION, { deadlineMs: 5000 })));
    for (const { response } of honest) assert.equal(response.allowed, true);
    for (const answer of await Promise.all(floods)) assert.equal(answer.code, status.RESOURCE_EXHAUSTED, answer.details);
  });

  it('a request within the transport ceiling but over server.max_message_bytes is INVALID_ARGUMENT naming the limit', async () => {
    const answer = await authorize({ big: 'x'.repeat(70 * 1024) });
    assert.equal(answer.code, status.INVALID_ARGUMENT);
    assert.match(answer.details, /over the limit of 65536 \(server\.max_message_bytes\)/);
  });

  it('thousands of empty attributes inside the size limit are refused before decoding', async () => {
    const bytes = Buffer.concat([service.Authorize!.requestSerialize({ token: '', action: PUBLIC_ACTION }), emptyAttributes(30_000)]);
    assert.ok(bytes.length < 65536);
    const answer = await raw('Authorize', bytes);
    assert.equal(answer.code, status.INVALID_ARGUMENT);
    assert.equal(answer.details, `the request has more than ${MAX_ATTRIBUTES} attributes`);
  });

  it(`${MAX_ATTRIBUTES} attributes at their size limits pass; one more, or one byte more, is INVALID_ARGUMENT`, async () => {
    const at = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, 'v']));
    assert.equal((await authorize(at(MAX_ATTRIBUTES))).code, status.OK);
    assert.equal((await authorize(at(MAX_ATTRIBUTES + 1))).code, status.INVALID_ARGUMENT);

    const longest = { ['k'.repeat(MAX_ATTRIBUTE_KEY_BYTES)]: 'v'.repeat(MAX_ATTRIBUTE_VALUE_BYTES) };
    assert.equal((await authorize(longest)).code, status.OK);
    for (const over of [
      { ['k'.repeat(MAX_ATTRIBUTE_KEY_BYTES + 1)]: 'v' },
      { k: 'v'.repeat(MAX_ATTRIBUTE_VALUE_BYTES + 1) },
      { k: 'é'.repeat(2049) },
    ]) {
      const answer = await authorize(over);
      assert.equal(answer.code, status.INVALID_ARGUMENT, Object.keys(over)[0]!.slice(0, 8));
      assert.match(answer.details, /an attribute is over its limit/);
    }
  });

  it('a field of the wrong wire type is undecodable: the walk and the decoder never disagree on where fields end', async () => {
    const flood = emptyAttributes(30_000);
    // 0c = field 1 with wire type 4 (end group): protobufjs would still read it as the token, then every entry.
    for (const prefix of [Buffer.from([0x0c, 0x00]), Buffer.from([0x18, 0x05]), Buffer.from([0x0d, 0, 0, 0, 0])]) {
      const answer = await raw('Authorize', Buffer.concat([prefix, flood]));
      assert.equal(answer.code, status.INVALID_ARGUMENT, prefix.toString('hex'));
      assert.equal(answer.details, 'the request is not a valid gatehouse.v1.AuthorizeRequest', prefix.toString('hex'));
    }
    // An unknown field (a newer client's) is skipped; thousands of them are refused.
    const known = service.Authorize!.requestSerialize({ token: '', action: PUBLIC_ACTION });
    assert.equal((await raw('Authorize', Buffer.concat([known, Buffer.from([0xf8, 0x01, 0x01])]))).code, status.OK);
    const unknown = Buffer.alloc(3000, Buffer.from([0xf8, 0x01, 0x01]));
    assert.equal((await raw('Authorize', Buffer.concat([known, unknown]))).code, status.INVALID_ARGUMENT);
  });

  it('a batch of more actions than allowed is refused before decoding; a scalar sent thousands of times too', async () => {
    const actions = Array.from({ length: MAX_BATCH_ACTIONS + 1 }, () => PUBLIC_ACTION);
    const batch = await raw('AuthorizeBatch', service.AuthorizeBatch!.requestSerialize({ token: '', actions }));
    assert.equal(batch.code, status.INVALID_ARGUMENT);
    assert.equal(batch.details, `the request has more than ${MAX_BATCH_ACTIONS} actions`);

    const repeatedToken = Buffer.alloc(20_000, Buffer.from([0x0a, 0x00]));
    const verify = await raw('Verify', repeatedToken);
    assert.equal(verify.code, status.INVALID_ARGUMENT);
    assert.equal(verify.details, 'the request has more than 8 token');
    assert.equal((await gh.client.authorize('', PUBLIC_ACTION)).response.allowed, true);
  });
});
