/**
 * A secret given inline or as a file. Key Vault CSI and Kubernetes secret mounts rotate files in place, so a
 * file is checked on every use (a `stat`, which is cheap: it happens once per token request) and read again
 * when it changed. Surrounding whitespace is trimmed (mounted secrets often end in a newline).
 */
import { readFile, stat } from 'node:fs/promises';
import { GatehouseClientError } from '../errors.js';

export type SecretSource = string | { readonly file: string };

export interface SecretReader {
  read(): Promise<string>;
  /** Forget the cached content: the next read goes to the file even if it looks unchanged. */
  forget(): void;
}

export function secretReader(source: SecretSource, what: string): SecretReader {
  if (typeof source === 'string') return { read: async () => source, forget() {} };
  let cached: { readonly version: string; readonly value: string } | undefined;
  return {
    async read() {
      try {
        const info = await stat(source.file);
        const version = `${info.ino}:${info.size}:${info.mtimeMs}`;
        if (cached?.version !== version) cached = { version, value: (await readFile(source.file, 'utf8')).trim() };
        return cached.value;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code ?? 'error';
        throw new GatehouseClientError('ERR_CLIENT_CREDENTIAL_UNREADABLE', `cannot read the ${what} file ${source.file} (${code})`, {
          cause: err,
        });
      }
    },
    forget() {
      cached = undefined;
    },
  };
}

export function isSecretSource(value: unknown): value is SecretSource {
  return (
    (typeof value === 'string' && value !== '') ||
    (typeof value === 'object' && value !== null && typeof (value as { file?: unknown }).file === 'string')
  );
}
