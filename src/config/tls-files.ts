/**
 * TLS material named in the config, checked once at start like every other key: each file readable, each
 * certificate parseable, and the private key the one that matches the certificate.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';

export interface TlsFiles {
  readonly cert: string;
  readonly key: string;
  readonly client_ca?: string | undefined;
}

/** Problems as [key, message] pairs; empty when the files are usable. */
export function checkTlsFiles(tls: TlsFiles): [key: keyof TlsFiles, message: string][] {
  const problems: [keyof TlsFiles, string][] = [];
  const read = (key: keyof TlsFiles): Buffer | undefined => {
    const path = tls[key];
    if (path === undefined) return undefined;
    try {
      return readFileSync(path);
    } catch (err) {
      problems.push([key, `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`]);
      return undefined;
    }
  };
  const certPem = read('cert');
  const keyPem = read('key');
  const caPem = read('client_ca');
  let cert: X509Certificate | undefined;
  if (certPem) {
    try {
      cert = new X509Certificate(certPem);
    } catch {
      problems.push(['cert', `not a PEM certificate: ${tls.cert}`]);
    }
  }
  if (keyPem) {
    try {
      const key = createPrivateKey(keyPem);
      if (cert && !cert.checkPrivateKey(key)) problems.push(['key', `does not match the certificate ${tls.cert}`]);
    } catch {
      problems.push(['key', `not a PEM private key (unencrypted): ${tls.key}`]);
    }
  }
  if (caPem) {
    try {
      new X509Certificate(caPem);
    } catch {
      problems.push(['client_ca', `not a PEM certificate: ${tls.client_ca}`]);
    }
  }
  return problems;
}
