/** Token sources inside a load worker (see TokenSpec): a constant, a cycled pool, a fresh signature, an unknown kid. */
import { createPrivateKey, randomBytes, sign } from 'node:crypto';
import type { TokenSpec } from './job.js';

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** A function giving call `i`'s token; `seed` keeps workers' tokens apart. */
export function tokenSource(spec: TokenSpec, seed: number): (i: number) => string {
  switch (spec.kind) {
    case 'same':
      return () => spec.token;
    case 'pool': {
      const offset = Math.floor((seed * spec.tokens.length) / 7);
      return (i) => spec.tokens[(offset + i) % spec.tokens.length]!;
    }
    case 'mint': {
      const key = createPrivateKey(spec.privateKeyPem);
      const header = b64({ alg: spec.alg, kid: spec.kid, typ: 'JWT' });
      const options = spec.alg === 'ES256' ? { key, dsaEncoding: 'ieee-p1363' as const } : key;
      const run = randomBytes(6).toString('hex');
      return (i) => {
        const iat = Math.floor(Date.now() / 1000);
        const payload = b64({ ...spec.claims, iss: spec.issuer, aud: spec.audience, sub: `u-${run}-${seed}-${i}`, iat, exp: iat + 3600 });
        const input = `${header}.${payload}`;
        return `${input}.${sign('sha256', Buffer.from(input), options).toString('base64url')}`;
      };
    }
    case 'unknown-kid': {
      const iat = Math.floor(Date.now() / 1000);
      const payload = b64({ iss: spec.issuer, aud: spec.audience, sub: 'flood', iat, exp: iat + 3600 });
      const signature = randomBytes(256).toString('base64url');
      const run = randomBytes(6).toString('hex');
      return (i) => `${b64({ alg: 'RS256', kid: `unknown-${run}-${seed}-${i}`, typ: 'JWT' })}.${payload}.${signature}`;
    }
  }
}
