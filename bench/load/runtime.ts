/**
 * Which gatehouse the bench runs: the built JavaScript in dist/ by default, as the Docker image and the npm package
 * ship it (`node dist/src/cli/gatehouse.js`), or the TypeScript sources through tsx with BENCH_RUNTIME=tsx. The two
 * differ on the hot path: tsx keeps function names by wrapping every closure in a defineProperty call (esbuild's
 * `__name`), a cost per call that no user pays. `make bench` builds first; a stale dist/ is refused here, so a
 * figure is never taken from code older than the sources.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export type Runtime = 'dist' | 'tsx';

export function benchRuntime(): Runtime {
  const value = process.env.BENCH_RUNTIME ?? 'dist';
  if (value !== 'dist' && value !== 'tsx') throw new Error(`BENCH_RUNTIME must be dist or tsx, not ${value}`);
  return value;
}

function newestMtime(dir: string, suffix: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && entry.name.endsWith(suffix)) newest = Math.max(newest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}

/** Throws unless dist/ holds a build at least as new as every source file (`make build`). */
export function assertBuilt(): void {
  let built = 0;
  try {
    built = newestMtime(join(ROOT, 'dist/src'), '.js');
  } catch {
    // no dist/ at all
  }
  if (built === 0 || built < newestMtime(join(ROOT, 'src'), '.ts')) {
    throw new Error('dist/ is missing or older than src/: run `make build` (make bench does), or set BENCH_RUNTIME=tsx');
  }
}

/**
 * The node flags the image runs gatehouse with: the Dockerfile's `ENV NODE_OPTIONS=` (the Deployment sets the same,
 * test/deploy checks it), so the bench's heap behaves as production's: a bounded old space, collected before the
 * caches' garbage piles up (without it V8 lets RSS grow far past the live caches: bench/results/hot-path.md).
 */
export function productionNodeFlags(): string[] {
  const line = /^ENV NODE_OPTIONS=(.*)$/m.exec(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));
  return line ? line[1]!.trim().split(/\s+/) : [];
}

/** The node arguments that start `gatehouse` (before its own arguments), for the chosen runtime. */
export function gatehouseEntry(): string[] {
  if (benchRuntime() === 'tsx') return [...productionNodeFlags(), '--import', 'tsx', 'src/cli/gatehouse.ts'];
  assertBuilt();
  return [...productionNodeFlags(), 'dist/src/cli/gatehouse.js'];
}

/**
 * A module of gatehouse by its path under src/ without extension (`client/index`), for in-process benches and the
 * protected service: its built file, or with BENCH_RUNTIME=tsx its source.
 */
export function gatehouseModule(path: string): string {
  if (benchRuntime() === 'tsx') return join(ROOT, 'src', `${path}.ts`);
  assertBuilt();
  return join(ROOT, 'dist/src', `${path}.js`);
}
