/**
 * Certificates made for one test with `openssl` in a temporary directory: certificate authorities, server and client
 * certificates with chosen serials (and expired ones), and a Kubernetes Secret volume to rotate them in
 * (`tls.crt` → `..data/tls.crt`, `..data` → `..<version>`, swapped by one rename as the kubelet does).
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Pem {
  readonly cert: string;
  readonly key: string;
}

export interface LeafOptions {
  /** Hex, as openssl and node print it (e.g. `1001`). */
  readonly serial: string;
  /** `client` certificates carry clientAuth; the default `server` ones name localhost and 127.0.0.1. */
  readonly usage?: 'server' | 'client';
  /** Negative: already expired. Default 2. */
  readonly days?: number;
  /** An RSA key of 512 bits: a valid pair that OpenSSL's TLS refuses to use ("ee key too small"). */
  readonly weakKey?: boolean;
}

export class TestPki {
  readonly dir = mkdtempSync(join(tmpdir(), 'gatehouse-tls-'));

  /** A self-signed certificate authority named `name` (an EC P-256 key, valid two days). */
  ca(name: string): Pem {
    const pem = this.#paths(name);
    openssl(['req', '-x509', ...EC_KEY, '-nodes', '-keyout', pem.key, '-out', pem.cert, '-subj', `/CN=${name}`, '-days', '2']);
    return pem;
  }

  /** A certificate `ca` signed for a fresh key. */
  leaf(name: string, ca: Pem, options: LeafOptions): Pem {
    const pem = this.#paths(name);
    const csr = join(this.dir, `${name}.csr`);
    const ext = join(this.dir, `${name}.ext`);
    const keyType = options.weakKey ? ['-newkey', 'rsa:512'] : EC_KEY;
    openssl(['req', ...keyType, '-nodes', '-keyout', pem.key, '-out', csr, '-subj', `/CN=${name}`]);
    writeFileSync(
      ext,
      options.usage === 'client'
        ? 'extendedKeyUsage=clientAuth\n'
        : 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n',
    );
    openssl(
      ['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-set_serial', `0x${options.serial}`].concat([
        '-days',
        String(options.days ?? 2),
        '-extfile',
        ext,
        '-out',
        pem.cert,
      ]),
    );
    return pem;
  }

  /** A directory laid out as a mounted Kubernetes Secret, its first version already published. */
  secretVolume(name: string, files: SecretFiles): SecretVolume {
    const dir = join(this.dir, name);
    mkdirSync(dir);
    const volume = new SecretVolume(dir);
    volume.publish(files);
    for (const file of ['tls.crt', 'tls.key', 'ca.crt']) symlinkSync(`..data/${file}`, join(dir, file));
    return volume;
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }

  #paths(name: string): Pem {
    return { cert: join(this.dir, `${name}.pem`), key: join(this.dir, `${name}-key.pem`) };
  }
}

/** What a Secret holds: paths whose bytes are copied in, or raw text (to publish garbage). */
export interface SecretFiles {
  readonly cert: string | { text: string };
  readonly key: string | { text: string };
  readonly ca?: string | undefined;
}

export class SecretVolume {
  #version = 0;

  constructor(readonly dir: string) {}

  readonly cert = () => join(this.dir, 'tls.crt');
  readonly key = () => join(this.dir, 'tls.key');
  readonly ca = () => join(this.dir, 'ca.crt');

  /** Writes a new `..<version>` directory and swaps `..data` to it with one rename. */
  publish(files: SecretFiles): void {
    const version = join(this.dir, `..v${++this.#version}`);
    mkdirSync(version);
    const put = (source: string | { text: string }, file: string) =>
      typeof source === 'string' ? copyFileSync(source, join(version, file)) : writeFileSync(join(version, file), source.text);
    put(files.cert, 'tls.crt');
    put(files.key, 'tls.key');
    if (files.ca) put(files.ca, 'ca.crt');
    symlinkSync(`..v${this.#version}`, join(this.dir, '..data_tmp'));
    renameSync(join(this.dir, '..data_tmp'), join(this.dir, '..data'));
  }
}

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'];

function openssl(args: string[]): void {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}
