// Free-text redaction for lines written by libraries: grpc-js's refusal of a metadata value prints it twice, and a
// caller chooses what that value holds, so nothing of it may survive, whatever the key or the scheme.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { redactSecrets } from '../../src/contract/redact-secrets.js';

const JWT = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlc2lnbmF0dXJl';
const grpcJsRefusal = (key: string, value: string) =>
  `Failed to add metadata entry ${key}: ${value}. Metadata string value "${value}" contains illegal characters. ` +
  'For more information see https://github.com/grpc/grpc-node/issues/1173';

describe('redactSecrets', () => {
  it('leaves nothing of a value grpc-js refused, in either of its two copies, whatever the key or scheme', () => {
    const secrets = ['opaque-token-123ABC', 'dXNlcjpwYXNz', JWT];
    const values = [
      [`authorization`, `Bearer\t${JWT}`],
      [`authorization`, `Bearer\x7fopaque-token-123ABC`],
      [`authorization`, `Token\topaque-token-123ABC`],
      [`authorization`, `Basic\tdXNlcjpwYXNz`],
      [`authorization`, `x. Metadata string value "y" contains illegal characters opaque-token-123ABC\t`],
      [`x-api-key`, `opaque-token-123ABC\t`],
      [`cookie`, `session=opaque-token-123ABC\t`],
    ] as const;
    for (const [key, value] of values) {
      const out = redactSecrets(grpcJsRefusal(key, value));
      for (const secret of secrets) assert.ok(!out.includes(secret), `${key}: ${JSON.stringify(value)} → ${out}`);
      assert.match(out, new RegExp(`^Failed to add metadata entry ${key}: \\[redacted\\]`));
    }
  });

  it('redacts credential values in traced metadata, bearer tokens and JWTs in any text', () => {
    const traced = redactSecrets(
      JSON.stringify({ authorization: [`Bearer ${JWT}`], cookie: ['s=opaque'], 'x-api-key': ['k1'], te: ['trailers'] }),
    );
    assert.deepEqual(JSON.parse(traced), {
      authorization: '[redacted]',
      cookie: '[redacted]',
      'x-api-key': '[redacted]',
      te: ['trailers'],
    });
    assert.equal(redactSecrets(`sent bearer ${JWT} to x`), 'sent bearer [redacted] to x');
    assert.equal(redactSecrets(`token=${JWT}`), 'token=[redacted]');
  });
});
