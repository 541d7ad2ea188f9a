/** Who a verified token speaks for. Built once per verification; read-only afterwards. */
export interface Principal {
  /** The token's `iss`. */
  readonly issuer: string;
  /** The `id` of the configured issuer that accepted the token. */
  readonly issuerId: string;
  readonly subject: string;
  /** Entra `tid`; empty for issuers without tenants. */
  readonly tenantId: string;
  /** Entra `oid`. */
  readonly objectId: string;
  /** `azp` (Entra v2, OIDC) or `appid` (Entra v1). */
  readonly clientId: string;
  readonly roles: readonly string[];
  /** `scp` split on spaces (delegated permissions). */
  readonly scopes: readonly string[];
  /** Group object ids as the token lists them. */
  readonly groups: readonly string[];
  /** True when the token says its groups did not fit (`_claim_names.groups` / `hasgroups`). */
  readonly groupsOverage: boolean;
  /** An application token (client credentials): no user behind it. */
  readonly appOnly: boolean;
  /** `exp` in seconds since the epoch. */
  readonly expiresAt: number;
  /** Entra `ver` ("1.0" / "2.0"); empty for other issuers. */
  readonly tokenVersion: string;
  /** Every claim of the token, as decoded. */
  readonly claims: Readonly<Record<string, unknown>>;
}
