/** gatehouse's own version, from its package.json (beside src/ and dist/src/ alike). Called once, at startup. */
import { readFileSync } from 'node:fs';

export function readPackageVersion(): string {
  for (const up of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(up, import.meta.url), 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === 'gatehouse' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // Not at this level; look one further up.
    }
  }
  return 'unknown';
}
