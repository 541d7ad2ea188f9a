/**
 * `private_key_jwt` client authentication (RFC 7523), as Entra ID wants it for certificate credentials: an
 * RS256 JWT signed with the certificate's private key, its header naming the certificate by thumbprint
 * (`x5t`: SHA-1, `x5t#S256`: SHA-256, base64url of the DER), `iss` = `sub` = the client id, `aud` = the token
 * endpoint, a fresh `jti` and a short lifetime. A new assertion for every token request.
 */
import { createHash, createPrivateKey, randomUUID, X509Certificate, type KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';
import { GatehouseClientError } from '../errors.js';
import { secretReader, type SecretSource } from './secret-source.js';

export interface CertificateCredential {
  /** The PEM certificate registered on the app, inline or as a file. */
  readonly certificate: SecretSource;
  /** Its PEM private key (PKCS#8 or PKCS#1), inline or as a file. */
  readonly privateKey: SecretSource;
  /** Lifetime of each assertion; default 300 s. */
  readonly assertionLifetimeSeconds?: number;
}

export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

interface Prepared {
  readonly pems: string;
  readonly key: KeyObject;
  readonly x5t: string;
  readonly x5tS256: string;
}

export function clientAssertionSigner(credential: CertificateCredential, clientId: string, audience: string, clock: () => number) {
  const certificate = secretReader(credential.certificate, 'certificate');
  const privateKey = secretReader(credential.privateKey, 'private key');
  const lifetime = credential.assertionLifetimeSeconds ?? 300;
  let prepared: Prepared | undefined;

  return async function sign(): Promise<string> {
    const [certPem, keyPem] = await Promise.all([certificate.read(), privateKey.read()]);
    if (prepared?.pems !== certPem + keyPem) prepared = prepare(certPem, keyPem);
    const now = Math.floor(clock() / 1000);
    return new SignJWT({})
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT', x5t: prepared.x5t, 'x5t#S256': prepared.x5tS256 })
      .setIssuer(clientId)
      .setSubject(clientId)
      .setAudience(audience)
      .setJti(randomUUID())
      .setIssuedAt(now)
      .setNotBefore(now)
      .setExpirationTime(now + lifetime)
      .sign(prepared.key);
  };
}

function prepare(certPem: string, keyPem: string): Prepared {
  let cert: X509Certificate;
  let key: KeyObject;
  try {
    cert = new X509Certificate(certPem);
    key = createPrivateKey(keyPem);
  } catch (err) {
    throw new GatehouseClientError('ERR_CLIENT_CREDENTIAL_UNREADABLE', 'the certificate or private key is not valid PEM', { cause: err });
  }
  if (key.asymmetricKeyType !== 'rsa' || !cert.checkPrivateKey(key)) {
    throw new GatehouseClientError('ERR_CLIENT_CREDENTIAL_UNREADABLE', 'the private key is not the RSA key of the certificate');
  }
  const thumbprint = (algorithm: string) => createHash(algorithm).update(cert.raw).digest('base64url');
  return { pems: certPem + keyPem, key, x5t: thumbprint('sha1'), x5tS256: thumbprint('sha256') };
}
