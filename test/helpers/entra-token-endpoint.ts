/**
 * The client credentials grant of the loopback Entra server (`POST /{tenant}/oauth2/v2.0/token`), checked as
 * Entra checks it: a registered app in that tenant, one `{resource}/.default` scope, and the app's proof of
 * identity: its secret (posted or Basic), or a client assertion of type jwt-bearer that is a federated token
 * (a Kubernetes service-account token) matching the app's federated identity credential: issuer, subject and
 * audience `api://AzureADTokenExchange`, signed by a key of that issuer. Refusals carry Entra's error codes.
 */
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';

export const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** The audience Entra requires of a federated token. */
export const TOKEN_EXCHANGE_AUDIENCE = 'api://AzureADTokenExchange';

/** A federated identity credential on an app registration (what `az identity federated-credential create` sets). */
export interface FederatedCredential {
  /** The cluster's OIDC issuer URL. */
  readonly issuer: string;
  /** `system:serviceaccount:<namespace>:<name>`. */
  readonly subject: string;
  /** The issuer's public keys (Entra fetches them from its discovery document). */
  readonly jwks: JSONWebKeySet;
}

/** An app registration the token endpoint issues tokens to. */
export interface EntraApp {
  readonly tenant: string;
  readonly clientId: string;
  /** A client secret it accepts. */
  readonly secret?: string;
  readonly federated?: FederatedCredential;
  /** Its service principal's object id: `oid` and `sub` of its tokens (default the helper's DEFAULT_OBJECT_ID). */
  readonly objectId?: string;
  /** App roles granted to it on every resource: the `roles` claim. */
  readonly roles?: readonly string[];
  /** `expires_in` of its tokens; default 3600. */
  readonly tokenLifetimeSeconds?: number;
  /** When set, sent as `refresh_in` (Entra sends it for long-lived tokens). */
  readonly refreshInSeconds?: number;
}

/** One token request as received: the form fields, and how the client authenticated. */
export interface ReceivedTokenRequest {
  readonly tenant: string;
  readonly form: Readonly<Record<string, string>>;
  readonly basicAuth: boolean;
}

export interface TokenEndpointAnswer {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

export type MintAppToken = (opts: { tid: string; aud: string; claims: Record<string, unknown>; expiresIn: number }) => Promise<string>;

export interface TokenEndpoint {
  register(app: EntraApp): void;
  readonly received: ReceivedTokenRequest[];
  handle(tenant: string, rawBody: string, authorization: string | undefined): Promise<TokenEndpointAnswer>;
}

const refuse = (status: number, error: string, description: string): TokenEndpointAnswer => ({
  status,
  body: { error, error_description: description, error_codes: [Number(/AADSTS(\d+)/.exec(description)?.[1] ?? 0)] },
});

export function createTokenEndpoint(mint: MintAppToken): TokenEndpoint {
  const apps = new Map<string, EntraApp>();
  const received: ReceivedTokenRequest[] = [];

  async function authenticate(app: EntraApp, form: URLSearchParams, basicSecret: string | undefined) {
    const assertionType = form.get('client_assertion_type');
    if (assertionType !== null || form.has('client_assertion')) {
      if (assertionType !== JWT_BEARER) {
        return refuse(400, 'invalid_request', `AADSTS50027: client_assertion_type must be ${JWT_BEARER}.`);
      }
      if (!app.federated || !(await federatedTokenMatches(form.get('client_assertion') ?? '', app.federated))) {
        return refuse(400, 'invalid_client', 'AADSTS70021: No matching federated identity record found for presented assertion.');
      }
      return undefined;
    }
    const secret = basicSecret ?? form.get('client_secret');
    if (secret === null)
      return refuse(401, 'invalid_client', 'AADSTS7000218: The request body must contain client_assertion or client_secret.');
    if (app.secret === undefined || secret !== app.secret) {
      return refuse(401, 'invalid_client', 'AADSTS7000215: Invalid client secret provided.');
    }
    return undefined;
  }

  return {
    received,
    register(app) {
      apps.set(app.clientId, app);
    },
    async handle(tenant, rawBody, authorization) {
      const form = new URLSearchParams(rawBody);
      const basic = parseBasic(authorization);
      const clientId = basic?.clientId ?? form.get('client_id') ?? '';
      received.push({ tenant, form: Object.fromEntries(form), basicAuth: basic !== undefined });
      if (form.get('grant_type') !== 'client_credentials') {
        return refuse(400, 'unsupported_grant_type', 'AADSTS70003: The app requested an unsupported grant type.');
      }
      const app = apps.get(clientId);
      if (!app || app.tenant !== tenant) {
        return refuse(
          400,
          'unauthorized_client',
          `AADSTS700016: Application with identifier '${clientId}' was not found in the directory '${tenant}'.`,
        );
      }
      const scopes = (form.get('scope') ?? '').split(' ').filter((s) => s !== '');
      const resource = scopes.length === 1 && scopes[0]!.endsWith('/.default') ? scopes[0]!.slice(0, -'/.default'.length) : undefined;
      if (!resource) {
        return refuse(400, 'invalid_scope', 'AADSTS1002012: The scope provided must be one resource followed by /.default.');
      }
      const refused = await authenticate(app, form, basic?.secret);
      if (refused) return refused;
      const lifetime = app.tokenLifetimeSeconds ?? 3600;
      const accessToken = await mint({
        tid: tenant,
        aud: resource,
        expiresIn: lifetime,
        // azpacr: 1 for a secret, 2 for a certificate or a federated assertion.
        claims: {
          azp: clientId,
          azpacr: form.has('client_assertion') ? '2' : '1',
          idtyp: 'app',
          ...(app.objectId ? { oid: app.objectId, sub: app.objectId } : {}),
          ...(app.roles ? { roles: [...app.roles] } : {}),
        },
      });
      return {
        status: 200,
        body: {
          token_type: 'Bearer',
          expires_in: lifetime,
          ext_expires_in: lifetime,
          ...(app.refreshInSeconds === undefined ? {} : { refresh_in: app.refreshInSeconds }),
          access_token: accessToken,
        },
      };
    },
  };
}

async function federatedTokenMatches(assertion: string, credential: FederatedCredential): Promise<boolean> {
  try {
    await jwtVerify(assertion, createLocalJWKSet(credential.jwks), {
      issuer: credential.issuer,
      subject: credential.subject,
      audience: TOKEN_EXCHANGE_AUDIENCE,
      algorithms: ['RS256'],
      requiredClaims: ['exp'],
    });
    return true;
  } catch {
    return false;
  }
}

function parseBasic(authorization: string | undefined): { clientId: string; secret: string } | undefined {
  const match = /^Basic\s+(\S+)$/i.exec(authorization ?? '');
  if (!match) return undefined;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  const unform = (s: string) => decodeURIComponent(s.replace(/\+/g, ' '));
  return { clientId: unform(decoded.slice(0, colon)), secret: unform(decoded.slice(colon + 1)) };
}
