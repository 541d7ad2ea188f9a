/** A v2 Entra user's principal, for the tests of its wire forms and encoders; `overrides` replace whole fields. */
import type { Principal } from '../../src/contract/principal.js';

export function entraPrincipal(overrides: Partial<Principal> = {}): Principal {
  return {
    issuer: 'https://login.microsoftonline.com/t/v2.0',
    issuerId: 'contoso',
    subject: 'alice',
    tenantId: 't',
    objectId: 'o',
    clientId: 'app',
    roles: ['Orders.Read'],
    scopes: ['user_impersonation'],
    groups: [],
    groupsOverage: false,
    appOnly: false,
    expiresAt: 1_800_000_000,
    tokenVersion: '2.0',
    claims: { sub: 'alice' },
    ...overrides,
  };
}
