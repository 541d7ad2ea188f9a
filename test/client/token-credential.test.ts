// fromTokenCredential's keeping and refreshing of tokens, with a scripted TokenCredential (the SDK edge) and
// a fake clock. The real @azure/identity credentials against a loopback Entra are in azure-identity.test.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fromTokenCredential, type AzureAccessToken, type TokenCredentialLike } from '../../src/client/index.js';

const SCOPE = 'api://orders/.default';
const HOUR = 3600_000;

/** A TokenCredential whose answers the test scripts; it records every call. */
function scriptedCredential(answer: (call: number) => Promise<AzureAccessToken | null>) {
  const calls: { scopes: string | string[]; signal: AbortSignal | undefined }[] = [];
  const credential: TokenCredentialLike = {
    getToken: (scopes, options) => {
      calls.push({ scopes, signal: options?.abortSignal });
      return answer(calls.length);
    },
  };
  return { credential, calls };
}

describe('fromTokenCredential', () => {
  it('keeps the token and refreshes it refreshSkewMs before expiry, with ONE credential call for 50 concurrent callers', async () => {
    let now = 1_800_000_000_000;
    const { credential, calls } = scriptedCredential(async (n) => ({ token: `token-${n}`, expiresOnTimestamp: now + HOUR }));
    const provider = fromTokenCredential(credential, SCOPE, { refreshSkewMs: 60_000, clock: () => now });

    const first = await Promise.all(Array.from({ length: 50 }, () => provider.getToken()));
    assert.ok(first.every((t) => t === 'token-1'));
    assert.equal(calls.length, 1);
    assert.deepEqual(calls[0]!.scopes, [SCOPE]);
    assert.ok(calls[0]!.signal instanceof AbortSignal, 'the credential gets an abortSignal');

    now += HOUR - 61_000;
    assert.equal(await provider.getToken(), 'token-1', 'not due yet');
    now += 2_000; // inside the skew
    const second = await Promise.all(Array.from({ length: 50 }, () => provider.getToken()));
    assert.ok(second.every((t) => t === 'token-2'));
    assert.equal(calls.length, 2, 'one refresh for 50 concurrent callers');

    provider.invalidate();
    assert.equal(await provider.getToken(), 'token-3', 'invalidate asks the credential again');
  });

  it("honours the credential's refreshAfterTimestamp when it is earlier than expiry minus the skew", async () => {
    let now = 1_800_000_000_000;
    const { credential, calls } = scriptedCredential(async (n) => ({
      token: `token-${n}`,
      expiresOnTimestamp: now + 24 * HOUR,
      refreshAfterTimestamp: now + 12 * HOUR,
    }));
    const provider = fromTokenCredential(credential, [SCOPE], { clock: () => now });
    assert.equal(await provider.getToken(), 'token-1');
    now += 12 * HOUR - 1;
    assert.equal(await provider.getToken(), 'token-1');
    now += 1;
    assert.equal(await provider.getToken(), 'token-2', 'refreshed at refreshAfterTimestamp, 12 h before expiry');
    assert.equal(calls.length, 2);
  });

  it('ignores a refreshAfterTimestamp already past, instead of asking the credential on every call', async () => {
    let now = 1_800_000_000_000;
    const { credential, calls } = scriptedCredential(async (n) => ({
      token: `token-${n}`,
      expiresOnTimestamp: now + HOUR,
      refreshAfterTimestamp: now - 1,
    }));
    const provider = fromTokenCredential(credential, SCOPE, { clock: () => now });
    for (let i = 0; i < 5; i++) assert.equal(await provider.getToken(), 'token-1');
    now += HOUR - 60_000;
    assert.equal(await provider.getToken(), 'token-2', 'refreshed at expiry minus the skew');
    assert.equal(calls.length, 2);
  });

  it('a short-lived token is refreshed at half its life when that is sooner than the skew', async () => {
    let now = 1_800_000_000_000;
    const { credential } = scriptedCredential(async (n) => ({ token: `token-${n}`, expiresOnTimestamp: now + 60_000 }));
    const provider = fromTokenCredential(credential, SCOPE, { refreshSkewMs: 300_000, clock: () => now });
    assert.equal(await provider.getToken(), 'token-1');
    now += 29_999;
    assert.equal(await provider.getToken(), 'token-1');
    now += 1;
    assert.equal(await provider.getToken(), 'token-2');
  });

  it('a failing refresh keeps the still-valid token; with under 5 s left it fails with the coded error', async () => {
    let now = 1_800_000_000_000;
    let up = true;
    const { credential, calls } = scriptedCredential(async (n) => {
      if (!up) throw Object.assign(new Error('endpoints_resolution_error'), { name: 'CredentialUnavailableError' });
      return { token: `token-${n}`, expiresOnTimestamp: now + HOUR };
    });
    const provider = fromTokenCredential(credential, SCOPE, { clock: () => now });
    assert.equal(await provider.getToken(), 'token-1');
    up = false;
    now += HOUR - 30_000;
    const during = await Promise.all(Array.from({ length: 10 }, () => provider.getToken()));
    assert.ok(
      during.every((t) => t === 'token-1'),
      'the credential is failing: the kept token serves',
    );
    assert.equal(calls.length, 2, 'concurrent callers shared the failing refresh');
    now += 26_000; // 4 s left
    await assert.rejects(provider.getToken(), (err: unknown) => {
      assert.equal((err as { code?: string }).code, 'ERR_TOKEN_ENDPOINT_UNAVAILABLE');
      assert.equal(((err as Error).cause as Error).name, 'CredentialUnavailableError', 'the credential error is the cause');
      return true;
    });
    up = true;
    assert.equal(await provider.getToken(), 'token-4', 'recovers when the credential does');
  });

  it('refuses what is not a bearer token: null, empty, pop, already expired', async () => {
    const now = 1_800_000_000_000;
    const answers: (AzureAccessToken | null)[] = [
      null,
      { token: '', expiresOnTimestamp: now + HOUR },
      { token: 'pop-token', expiresOnTimestamp: now + HOUR, tokenType: 'pop' },
      { token: 'old', expiresOnTimestamp: now - 1 },
    ];
    for (const answer of answers) {
      const { credential } = scriptedCredential(async () => answer);
      await assert.rejects(fromTokenCredential(credential, SCOPE, { clock: () => now }).getToken(), { code: 'ERR_TOKEN_RESPONSE_INVALID' });
    }
    const { credential } = scriptedCredential(async () => ({ token: 't', expiresOnTimestamp: now + HOUR, tokenType: 'Bearer' }));
    assert.equal(await fromTokenCredential(credential, SCOPE, { clock: () => now }).getToken(), 't');
  });

  it('a credential that never answers is abandoned after timeoutMs, its abortSignal aborted', async () => {
    const { credential, calls } = scriptedCredential(() => new Promise<never>(() => {}));
    await assert.rejects(fromTokenCredential(credential, SCOPE, { timeoutMs: 50 }).getToken(), {
      code: 'ERR_TOKEN_ENDPOINT_UNAVAILABLE',
      message: /no token within 50 ms/,
    });
    assert.equal(calls[0]!.signal?.aborted, true);
  });

  it('maps the Azure SDK error shapes to the client codes', async () => {
    const fail = (err: unknown) => fromTokenCredential(scriptedCredential(() => Promise.reject(err)).credential, SCOPE).getToken();
    // @azure/identity's AuthenticationError; MSAL's ServerError as the cause of an AuthenticationRequiredError.
    const authenticationError = Object.assign(new Error('invalid_client Status code: 401'), {
      name: 'AuthenticationError',
      statusCode: 401,
      errorResponse: { error: 'invalid_client', errorDescription: 'AADSTS7000215' },
    });
    await assert.rejects(fail(authenticationError), { code: 'ERR_TOKEN_REQUEST_REFUSED', oauthError: 'invalid_client' });
    const serverError = Object.assign(new Error('AADSTS70021'), { name: 'ServerError', errorCode: 'invalid_client', status: 400 });
    const required = Object.assign(new Error('invalid_client: Error(s): 70021'), {
      name: 'AuthenticationRequiredError',
      cause: serverError,
    });
    await assert.rejects(fail(required), { code: 'ERR_TOKEN_REQUEST_REFUSED', oauthError: 'invalid_client' });
    const throttled = Object.assign(new Error('busy'), { name: 'ServerError', errorCode: 'temporarily_unavailable', status: 503 });
    await assert.rejects(fail(throttled), { code: 'ERR_TOKEN_ENDPOINT_UNAVAILABLE' });
    const enoent = Object.assign(new Error("ENOENT: no such file or directory, open '/var/run/secrets/azure/tokens/x'"), {
      code: 'ENOENT',
      path: '/var/run/secrets/azure/tokens/x',
    });
    await assert.rejects(fail(Object.assign(new Error(enoent.message), { name: 'AuthenticationRequiredError', cause: enoent })), {
      code: 'ERR_CLIENT_CREDENTIAL_UNREADABLE',
    });
    await assert.rejects(fail(new TypeError('fetch failed')), {
      code: 'ERR_TOKEN_ENDPOINT_UNAVAILABLE',
      message: /TypeError: fetch failed/,
    });
  });

  it('validates its options, naming the bad one', () => {
    const { credential } = scriptedCredential(async () => null);
    const bad: [() => unknown, RegExp][] = [
      [() => fromTokenCredential({} as TokenCredentialLike, SCOPE), /credential must be a TokenCredential/],
      [() => fromTokenCredential(credential, ''), /scope must be/],
      [() => fromTokenCredential(credential, []), /scope must be/],
      [() => fromTokenCredential(credential, SCOPE, { refreshSkewMs: -1 }), /refreshSkewMs/],
      [() => fromTokenCredential(credential, SCOPE, { timeoutMs: 0 }), /timeoutMs/],
    ];
    for (const [make, message] of bad) assert.throws(make, { code: 'ERR_CLIENT_OPTIONS', message });
  });
});
