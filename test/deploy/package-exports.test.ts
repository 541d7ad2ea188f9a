// The package's entry points resolve to modules that exist (checked on the sources the build compiles).
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';

const root = new URL('../../', import.meta.url);
const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as {
  exports: Record<string, { types: string; default: string }>;
  bin: Record<string, string>;
};
/** dist/src/x.js → src/x.ts (what tsc -p tsconfig.build.json compiles it from). */
const sourceOf = (built: string) => built.replace(/^\.?\/?dist\//, '').replace(/\.d\.ts$|\.js$/, '.ts');

describe('package.json entry points', () => {
  it('every export and the bin have a source file', () => {
    for (const [name, entry] of Object.entries(pkg.exports)) {
      for (const target of [entry.default, entry.types]) assert.ok(existsSync(new URL(sourceOf(target), root)), `${name} → ${target}`);
    }
    for (const bin of Object.values(pkg.bin)) assert.ok(existsSync(new URL(sourceOf(bin), root)), bin);
  });

  it('the root entry loads and offers startGatehouse', async () => {
    const entry = (await import(new URL(sourceOf(pkg.exports['.']!.default), root).href)) as Record<string, unknown>;
    assert.equal(typeof entry.startGatehouse, 'function');
    assert.equal(typeof entry.validateConfig, 'function');
  });
});
