// The image cannot be built here (no Docker engine), so it is kept honest by reading it: the Dockerfile's paths
// exist and match the package. The Kubernetes manifests: kubernetes.test.ts.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';

const root = new URL('../../', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), 'utf8');

describe('Dockerfile', () => {
  const dockerfile = read('Dockerfile');
  const pkg = JSON.parse(read('package.json')) as { bin: Record<string, string> };

  it('copies only paths that exist', () => {
    for (const [, from] of dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)) {
      for (const path of from!.split(' ')) assert.ok(existsSync(new URL(path, root)), `COPY ${path}: missing`);
    }
  });

  it('starts the bin the package declares, on Node 22, as a non-root user, with production dependencies only', () => {
    const bin = pkg.bin.gatehouse!;
    assert.match(dockerfile, new RegExp(`ENTRYPOINT \\["node", "${bin.replace(/\./g, '\\.')}"\\]`));
    assert.match(dockerfile, /^FROM node:22/m);
    assert.match(dockerfile, /^USER node$/m);
    assert.match(dockerfile, /npm ci --omit=dev/);
    assert.doesNotMatch(dockerfile, /^HEALTHCHECK/m);
  });
});
