// gatehouse/client ships beside the server but must not load it: walk the runtime import graph of
// src/client/index.ts (type-only imports are erased) and check where it leads.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const IMPORT = /^(?:import|export)\s+(type\s+)?[^;]*?from\s+'([^']+)'/gms;

/** The import graph of src/client/index.ts: at run time only, or with type-only imports (what its .d.ts names). */
function runtimeGraph(withTypes = false): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string) => {
    if (files.has(file)) return;
    files.add(file);
    for (const [, typeOnly, spec] of readFileSync(join(ROOT, file), 'utf8').matchAll(IMPORT)) {
      if (typeOnly && !withTypes) continue;
      if (spec!.startsWith('.')) visit(relative(ROOT, normalize(join(ROOT, dirname(file), spec!.replace(/\.js$/, '.ts')))));
      else packages.add(spec!);
    }
  };
  visit('src/client/index.ts');
  return { files, packages };
}

describe('gatehouse/client boundary', () => {
  it('loads only src/client and the shared contract: no server, config, telemetry, verification or app code', () => {
    const { files, packages } = runtimeGraph();
    const outside = [...files].filter((f) => !f.startsWith('src/client/') && !f.startsWith('src/contract/'));
    assert.deepEqual(outside, []);
    assert.ok(files.has('src/client/server-interceptor.ts') && files.has('src/contract/bearer.ts'));
    // prom-client is loaded only when a registry is handed in (createRequire); pino never.
    for (const forbidden of ['prom-client', 'pino', 'zod', 'yaml', 'commander', 'grpc-health-check', '@grpc/reflection']) {
      assert.ok(!packages.has(forbidden), `imports ${forbidden}`);
    }
  });

  it('needs no Azure package, at run time or in its types: fromTokenCredential takes a structural TokenCredential', () => {
    const { files, packages } = runtimeGraph(true);
    assert.ok(files.has('src/client/tokens/token-credential.ts'));
    assert.deepEqual(
      [...packages].filter((p) => p.startsWith('@azure/')),
      [],
    );
  });
});
