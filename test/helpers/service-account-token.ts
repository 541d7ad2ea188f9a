/**
 * A stand-in for an AKS cluster's OIDC issuer: it signs projected service-account tokens shaped as the kubelet
 * writes them to `/var/run/secrets/azure/tokens/azure-identity-token` for a pod labelled
 * `azure.workload.identity/use: "true"` (audience `api://AzureADTokenExchange`), and publishes its public key
 * as the JWKS that a federated identity credential trusts.
 */
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type JSONWebKeySet } from 'jose';
import { TOKEN_EXCHANGE_AUDIENCE } from './entra-token-endpoint.js';

export interface ClusterIssuer {
  /** `https://oidc.prod-aks.azure.com/<guid>/`, the `iss` of its tokens. */
  readonly issuer: string;
  readonly jwks: JSONWebKeySet;
  /** `system:serviceaccount:<namespace>:<name>`. */
  subject(namespace: string, serviceAccount: string): string;
  /** A projected service-account token; default lifetime 3600 s, as the workload identity webhook asks. */
  serviceAccountToken(opts: { namespace: string; serviceAccount: string; lifetimeSeconds?: number }): Promise<string>;
}

export async function startClusterIssuer(): Promise<ClusterIssuer> {
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  const kid = randomUUID();
  const issuer = `https://oidc.prod-aks.azure.com/${randomUUID()}/`;
  const subject = (namespace: string, serviceAccount: string) => `system:serviceaccount:${namespace}:${serviceAccount}`;
  return {
    issuer,
    jwks: { keys: [{ ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' }] },
    subject,
    async serviceAccountToken({ namespace, serviceAccount, lifetimeSeconds = 3600 }) {
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({
        'kubernetes.io': {
          namespace,
          pod: { name: `${serviceAccount}-0`, uid: randomUUID() },
          serviceaccount: { name: serviceAccount, uid: randomUUID() },
        },
      })
        .setProtectedHeader({ alg: 'RS256', kid })
        .setIssuer(issuer)
        .setSubject(subject(namespace, serviceAccount))
        .setAudience([TOKEN_EXCHANGE_AUDIENCE])
        .setJti(randomUUID())
        .setIssuedAt(now)
        .setNotBefore(now)
        .setExpirationTime(now + lifetimeSeconds)
        .sign(privateKey);
    },
  };
}
