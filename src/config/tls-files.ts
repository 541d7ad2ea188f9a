/**
 * TLS material named in the config: each file readable, each certificate parseable and unexpired, the private
 * key the one that matches the certificate, and the set one that Node's TLS accepts. Checked once at start like every other key, and again each
 * time the files change (a Secret rotation), when a pair that fails keeps the one in force.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';

export interface TlsFiles {
  readonly cert: string;
  readonly key: string;
  readonly client_ca?: string | undefined;
}

/** The bytes of a usable pair (and client CA), as read together, with what the logs and metrics say of them. */
export interface TlsMaterial {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly ca: Buffer | undefined;
  /** The certificate's serial number (hex, as openssl prints it). */
  readonly serial: string;
  /** When the certificate expires, in milliseconds since the epoch. */
  readonly notAfter: number;
}

export type TlsProblem = [key: keyof TlsFiles, message: string];

/** The bytes read of each file (absent: unreadable or not configured), whether they checked out or not. */
export type TlsBytes = Readonly<Partial<Record<keyof TlsFiles, Buffer>>>;

/** Reads and checks the files once; `now` (ms since the epoch) decides what has expired. */
export function readTlsMaterial(
  tls: TlsFiles,
  now = Date.now(),
): { material: TlsMaterial; bytes: TlsBytes } | { problems: TlsProblem[]; bytes: TlsBytes } {
  const problems: TlsProblem[] = [];
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
    cert = parseCertificate(certPem, 'cert', tls.cert, now, problems);
  }
  if (keyPem) {
    try {
      const key = createPrivateKey(keyPem);
      if (cert && !cert.checkPrivateKey(key)) problems.push(['key', `does not match the certificate ${tls.cert}`]);
    } catch {
      problems.push(['key', `not a PEM private key (unencrypted): ${tls.key}`]);
    }
  }
  if (caPem) parseCertificate(caPem, 'client_ca', tls.client_ca ?? '', now, problems);
  const bytes = { cert: certPem, key: keyPem, client_ca: caPem };
  if (problems.length > 0 || !cert || !certPem || !keyPem) return { problems, bytes };
  // What the listener will do with them: a pair that parses and matches may still be one OpenSSL's TLS refuses (a
  // key too small for its security level), and a listener handed that would refuse every new connection.
  try {
    createSecureContext({ cert: certPem, key: keyPem, ...(caPem ? { ca: caPem } : {}) });
  } catch (err) {
    return { problems: [['cert', `TLS refuses this certificate and key: ${(err as Error).message}`]], bytes };
  }
  return { material: { cert: certPem, key: keyPem, ca: caPem, serial: cert.serialNumber, notAfter: Date.parse(cert.validTo) }, bytes };
}

/** Problems as [key, message] pairs; empty when the files are usable. */
export function checkTlsFiles(tls: TlsFiles, now = Date.now()): TlsProblem[] {
  const read = readTlsMaterial(tls, now);
  return 'problems' in read ? read.problems : [];
}

function parseCertificate(
  pem: Buffer,
  key: keyof TlsFiles,
  path: string,
  now: number,
  problems: TlsProblem[],
): X509Certificate | undefined {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pem);
  } catch {
    problems.push([key, `not a PEM certificate: ${path}`]);
    return undefined;
  }
  // An expired certificate fails every handshake; one not valid yet is left alone (a freshly issued one may
  // start a few seconds ahead of this clock).
  if (Date.parse(cert.validTo) <= now) problems.push([key, `expired on ${new Date(cert.validTo).toISOString()}: ${path}`]);
  return cert;
}
