// What cannot be built here (no Docker engine, no cluster) is kept honest by reading it: the Dockerfile's paths
// exist and match the package, and the Kubernetes ConfigMap holds a config gatehouse accepts.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { parseConfigText } from '../../src/config/load.js';
import { compilePolicy } from '../../src/decisions/create-authorizer.js';

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

describe('Kubernetes manifests', () => {
  const docs = ['configmap.yaml', 'deployment.yaml'].flatMap((f) =>
    parseAllDocuments(read(`deploy/kubernetes/${f}`)).map((d) => d.toJS() as Record<string, any>),
  );

  it('the ConfigMap holds a valid config whose rules compile', () => {
    const configMap = docs.find((d) => d.kind === 'ConfigMap')!;
    const config = parseConfigText(configMap.data['gatehouse.yaml'], 'configmap');
    assert.doesNotThrow(() => compilePolicy(config));
  });

  it('the Deployment mounts that ConfigMap where its args point, and probes readiness and gRPC health', () => {
    const deployment = docs.find((d) => d.kind === 'Deployment')!;
    const pod = deployment.spec.template.spec;
    const container = pod.containers[0];
    const mount = container.volumeMounts.find((m: { name: string }) => m.name === 'config');
    assert.ok(container.args.join(' ').includes(`${mount.mountPath}/gatehouse.yaml`));
    assert.equal(pod.volumes[0].configMap.name, docs.find((d) => d.kind === 'ConfigMap')!.metadata.name);
    assert.equal(container.readinessProbe.httpGet.path, '/readyz');
    assert.ok(container.livenessProbe.grpc);
    assert.ok(pod.terminationGracePeriodSeconds * 1000 > 10_000, 'longer than the default shutdown_grace');
  });

  it('bounds the V8 heap at half the memory limit, and the image ships the same bound', () => {
    const container = docs.find((d) => d.kind === 'Deployment')!.spec.template.spec.containers[0];
    const nodeOptions: string = container.env.find((e: { name: string }) => e.name === 'NODE_OPTIONS').value;
    const heapMiB = Number(/--max-old-space-size=(\d+)/.exec(nodeOptions)![1]);
    const limitMiB = Number(/^(\d+)Mi$/.exec(container.resources.limits.memory)![1]);
    assert.ok(heapMiB <= limitMiB / 2, `${heapMiB} MiB of heap in a ${limitMiB} MiB container`);
    assert.match(read('Dockerfile'), new RegExp(`^ENV NODE_OPTIONS=${nodeOptions}$`, 'm'));
  });
});
