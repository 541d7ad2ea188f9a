// Seeded, deterministic fuzz of verifyToken: 5,000 mutations of valid Entra and OIDC tokens. Every outcome must be
// a Principal for a token whose bytes did not change (or that was re-signed by the issuer's own key and is valid
// on its face), or a TokenError with a known reason: never another exception, never a hang, never a fetch.
import assert from 'node:assert/strict';
import { isDeepStrictEqual } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { validateConfig } from '../../src/config/load.js';
import { stripBearer } from '../../src/contract/bearer.js';
import { TokenReasons as Reasons } from '../../src/contract/reasons.js';
import { TokenError } from '../../src/verification/errors.js';
import type { Principal } from '../../src/contract/principal.js';
import { createVerificationContext } from '../../src/verification/verifier.js';
import { verifyToken, type VerificationContext } from '../../src/verification/verify-token.js';
import { startEntraServer, type EntraServer } from '../helpers/entra-server.js';
import { LOOPBACK_AUDIENCE, startLoopbackIssuer, type LoopbackIssuer } from './loopback-issuer.js';
import { mutate, prng, type MutationTarget } from './token-mutations.js';

const SEED = 0x5eed2026;
const ITERATIONS = 5000;
const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const AUD = 'api://gatehouse-test';
const NOW = 1_790_000_000; // the frozen clock, epoch seconds: no cooldown ever passes, so no refetch may happen
const DEADLINE_MS = 5000;

interface Base extends MutationTarget {
  readonly name: string;
  readonly ctx: () => VerificationContext;
}

/** The three segments decode to the same bytes as the original's (base64url's spare low bits may differ). */
function sameBytes(mutated: string, original: string): boolean {
  const a = stripBearer(mutated).split('.');
  const b = original.split('.');
  if (a.length !== 3) return false;
  return a.every(
    (part, i) =>
      /^[A-Za-z0-9_-]*$/.test(part) && part.length % 4 !== 1 && Buffer.from(part, 'base64url').equals(Buffer.from(b[i]!, 'base64url')),
  );
}

/** A re-signed token that verified must say, on its face, what the verifier claims it said. */
function validOnItsFace(principal: Principal, token: string, issuer: LoopbackIssuer): boolean {
  const payload = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
  const aud = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
  // Top level only: a claim may be nested 20,000 deep, past what a recursive comparison survives.
  const sameClaims = (a: Record<string, unknown>, b: Record<string, unknown>) =>
    isDeepStrictEqual(Object.keys(a), Object.keys(b)) &&
    Object.keys(a).every((k) => (typeof a[k] === 'object' && a[k] !== null ? typeof b[k] === 'object' : Object.is(a[k], b[k])));
  return (
    sameClaims(principal.claims, payload) &&
    payload.iss === issuer.issuer &&
    principal.subject === payload.sub &&
    aud.includes(LOOPBACK_AUDIENCE) &&
    typeof payload.exp === 'number' &&
    payload.exp > NOW - 60
  );
}

function withDeadline<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`verifyToken hung for ${DEADLINE_MS} ms on ${what}`)), DEADLINE_MS);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

describe('fuzzed tokens', () => {
  let entra: EntraServer;
  let issuer: LoopbackIssuer;
  let entraCtx: VerificationContext;
  let oidcCtx: VerificationContext;
  let bases: Base[];

  before(async () => {
    [entra, issuer] = await Promise.all([startEntraServer(), startLoopbackIssuer()]);
    const clock = () => NOW * 1000;
    entraCtx = createVerificationContext(
      validateConfig({
        issuers: [{ id: 'entra', type: 'entra', authority: entra.base, tenant: TENANT, audiences: [AUD] }],
        tokens: { max_bytes: 65536 },
      }),
      { clock },
    );
    oidcCtx = createVerificationContext(
      validateConfig({
        issuers: [{ id: 'loop', type: 'oidc', issuer: issuer.issuer, audiences: [LOOPBACK_AUDIENCE] }],
        tokens: { max_bytes: 262144 },
      }),
      { clock },
    );
    await Promise.all([entraCtx.keyCache.start(), oidcCtx.keyCache.start()]);
    const claims = { roles: ['Orders.Read'], scp: 'orders.read' };
    const plausible = [
      AUD,
      LOOPBACK_AUDIENCE,
      TENANT,
      '2.0',
      '1.0',
      'app',
      'user',
      'a b  c',
      NOW + 60,
      NOW - 60,
      NOW + 100_000,
      [AUD],
      ['r1'],
    ];
    const entraBase = (version: 1 | 2) => entra.mint({ version, tid: TENANT, aud: AUD, now: NOW, claims });
    bases = [
      { name: 'entra-v2', token: await entraBase(2), ctx: () => entraCtx, resign: undefined, plausible },
      { name: 'entra-v1', token: await entraBase(1), ctx: () => entraCtx, resign: undefined, plausible },
      {
        name: 'oidc-rs256',
        token: issuer.token({ key: 'rsa', now: NOW, claims: { scope: 'a b' } }),
        ctx: () => oidcCtx,
        resign: (h, p) => issuer.signParts(h, p, 'rsa'),
        plausible,
      },
      {
        name: 'oidc-es256',
        token: issuer.token({ key: 'ec', now: NOW, claims: { roles: ['x'] } }),
        ctx: () => oidcCtx,
        resign: (h, p) => issuer.signParts(h, p, 'ec'),
        plausible,
      },
    ];
  });
  after(async () => {
    entraCtx.keyCache.stop();
    oidcCtx.keyCache.stop();
    await Promise.all([entra.close(), issuer.close()]);
  });

  it(
    `${ITERATIONS} mutations (seed ${SEED.toString(16)}): a Principal only for an unchanged or properly re-signed token, else a known reason`,
    { timeout: 60_000 },
    async (t) => {
      for (const base of bases) assert.ok(await verifyToken(base.ctx(), base.token), `${base.name} verifies unmutated`);
      const requestsBefore = entra.requests() + issuer.jwksRequests();
      const rng = prng(SEED);
      const outcomes = new Map<string, number>();

      for (let i = 0; i < ITERATIONS; i++) {
        const base = rng.pick(bases);
        const m = mutate(rng, base);
        const what = `#${i} ${base.name} ${m.op}: ${JSON.stringify(m.token.slice(0, 120))}`;
        let result: Principal | TokenError;
        try {
          result = await withDeadline(verifyToken(base.ctx(), m.token), what);
        } catch (err) {
          assert.ok(err instanceof TokenError, `${what} threw ${(err as Error)?.stack ?? String(err)}`);
          result = err;
        }
        let outcome: string;
        if (result instanceof TokenError) {
          assert.ok((Reasons as readonly string[]).includes(result.reason), `${what}: unknown reason ${result.reason}`);
          outcome = result.reason;
        } else {
          const ok = m.resigned ? validOnItsFace(result, m.token, issuer) : sameBytes(m.token, base.token);
          assert.ok(ok, `a changed token verified: ${what}`);
          outcome = 'VALID';
        }
        outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
      }

      t.diagnostic(`outcomes: ${JSON.stringify(Object.fromEntries(outcomes))}`);
      assert.equal(entra.requests() + issuer.jwksRequests(), requestsBefore, 'no mutated token caused a fetch');
      // The mutations reach deep into the checks, not just the parser.
      for (const reason of [
        'TOKEN_MALFORMED',
        'SIGNATURE_INVALID',
        'KEY_NOT_FOUND',
        'ALGORITHM_NOT_ALLOWED',
        'CLAIMS_INVALID',
        'ISSUER_NOT_TRUSTED',
        'TOKEN_EXPIRED',
      ]) {
        assert.ok((outcomes.get(reason) ?? 0) > 0, `no mutation ended in ${reason}: ${JSON.stringify([...outcomes])}`);
      }
    },
  );
});
