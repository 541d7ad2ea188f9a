// The proxy section (Envoy ext_authz): strip_authorization globally and per issuer, validated up front.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateConfig } from '../../src/config/load.js';
import { OIDC, problemsOf } from './config-problems.js';

describe('config: proxy', () => {
  it('strip_authorization is off unless set; an issuer may say otherwise', () => {
    assert.equal(validateConfig({ issuers: [OIDC] }).proxy.strip_authorization, false);
    const config = validateConfig({ issuers: [{ ...OIDC, strip_authorization: true }], proxy: { strip_authorization: false } });
    assert.equal(config.issuers[0]!.strip_authorization, true);
    assert.equal(validateConfig({ issuers: [OIDC] }).issuers[0]!.strip_authorization, undefined);
  });

  it('refuses a non-boolean or an unknown key, naming it', () => {
    const problems = problemsOf({ issuers: [{ ...OIDC, strip_authorization: 'yes' }], proxy: { strip_authorization: 1, strip: true } });
    assert.ok(
      problems.some((p) => p.startsWith('issuers[0].strip_authorization')),
      problems.join('\n'),
    );
    assert.ok(
      problems.some((p) => p.startsWith('proxy.strip_authorization')),
      problems.join('\n'),
    );
    assert.ok(problems.includes('proxy.strip: unknown key'), problems.join('\n'));
  });
});
