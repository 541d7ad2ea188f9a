// deploy/kubernetes cannot be applied here (no cluster), so it is kept honest three ways: every object is valid
// against the Kubernetes API schema (kubernetes-models), the base and the production overlay render as kustomize
// renders them, and every cross-reference agrees with the code: ports, labels and selectors, the config path and
// its files, the probes (served for real by a gatehouse on port 0), the grace periods, the image's user.
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { credentials, makeClientConstructor, type Client } from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { checkConfigFile } from '../../src/cli/check-config.js';
import type { Config } from '../../src/config/schema.js';
import { parseDuration } from '../../src/config/duration.js';
import { GUID } from '../../src/contract/guid.js';
import { startTestGatehouse, type TestGatehouse } from '../helpers/gatehouse.js';
import { LOOPBACK_AUDIENCE, startLoopbackIssuer, type LoopbackIssuer } from '../verification/loopback-issuer.js';
import { validateManifest } from './kubernetes-schema.js';
import { kubectlKustomize, podSpecOf, readManifests, renderKustomization, type Manifest } from './kustomize.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const k8s = join(root, 'deploy/kubernetes');
const read = (path: string) => readFileSync(join(root, path), 'utf8');
const TLS_FILES: Record<string, string> = { 'tls.crt': 'server.pem', 'tls.key': 'server-key.pem', 'ca.crt': 'ca.pem' };

const rendered: Record<string, Manifest[]> = {
  base: renderKustomization(join(k8s, 'base')),
  production: renderKustomization(join(k8s, 'overlays/production')),
};
const callers = ['workload-identity.yaml', 'key-vault-secret.yaml'].flatMap((f) => readManifests(join(k8s, 'callers', f)));

const find = (objects: Manifest[], kind: string, name = 'gatehouse') => {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  assert.ok(found, `${kind}/${name} is missing`);
  return found;
};
const selects = (selector: Record<string, string>, labels: Record<string, string>) =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);

/** The projected config volume written to a temp dir as the kubelet writes it, with test TLS material for Secrets. */
function materialize(objects: Manifest[], dir: string): void {
  const volume = podSpecOf(find(objects, 'Deployment'))!.volumes.find((v: Manifest) => v.name === 'config');
  for (const source of volume.projected.sources as Manifest[]) {
    const ref = source.configMap ?? source.secret;
    const items: { key: string; path: string }[] =
      ref.items ?? Object.keys(find(objects, 'ConfigMap', ref.name).data).map((key) => ({ key, path: key }));
    for (const { key, path } of items) {
      const target = join(dir, path);
      mkdirSync(dirname(target), { recursive: true });
      if (source.secret) copyFileSync(join(root, 'test/helpers/tls', TLS_FILES[key]!), target);
      else writeFileSync(target, find(objects, 'ConfigMap', ref.name).data[key]);
    }
  }
}

for (const [name, objects] of Object.entries(rendered)) {
  describe(`deploy/kubernetes ${name}`, () => {
    const deployment = find(objects, 'Deployment');
    const pod = podSpecOf(deployment)!;
    const container = pod.containers[0];
    const mountPath: string = container.volumeMounts.find((m: Manifest) => m.name === 'config').mountPath;
    let dir: string;
    let config: Config;
    before(() => {
      dir = mkdtempSync(join(tmpdir(), 'gatehouse-k8s-'));
      materialize(objects, dir);
      // The config names its files by their paths in the pod: point those at the materialized volume.
      const text = readFileSync(join(dir, 'gatehouse.yaml'), 'utf8').replaceAll(`${mountPath}/`, `${dir}/`);
      writeFileSync(join(dir, 'gatehouse.yaml'), text);
      const checked = checkConfigFile(join(dir, 'gatehouse.yaml'));
      assert.ok(checked.ok, `gatehouse check-config: ${checked.ok ? '' : checked.problems.join('; ')}`);
      config = checked.config;
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    it('every object is valid against the Kubernetes API schema', () => {
      for (const object of objects) validateManifest(object);
    });

    it('the container runs the config file the volume holds, and that config passes check-config', () => {
      const args: string[] = container.args;
      const file = args[args.indexOf('--config') + 1]!;
      assert.ok(file.startsWith(`${mountPath}/`), `${file} is not on the config volume (${mountPath})`);
      assert.match(read('Dockerfile'), new RegExp(`^CMD \\["serve", "--config", "${file}"\\]$`, 'm'));
      assert.ok(config.issuers.length > 0);
      if (config.revocations.file) assert.ok(config.revocations.file.startsWith(dir), 'the revocation list is on the volume');
    });

    it('container ports are the ports the config listens on, and the Services and NetworkPolicy name them', () => {
      const ports = Object.fromEntries(container.ports.map((p: Manifest) => [p.name, p.containerPort]));
      assert.deepEqual(ports, { grpc: portOf(config.server.grpc), http: portOf(config.server.http) });
      const defaults = checkedDefaults().server;
      assert.deepEqual(ports, { grpc: portOf(defaults.grpc), http: portOf(defaults.http) }, "the code's default ports");
      for (const service of objects.filter((o) => o.kind === 'Service')) {
        assert.ok(selects(service.spec.selector, deployment.spec.template.metadata.labels), service.metadata.name);
        for (const port of service.spec.ports) assert.ok(port.targetPort in ports, `${service.metadata.name}: ${port.targetPort}`);
      }
      assert.equal(find(objects, 'Service', 'gatehouse-headless').spec.clusterIP, 'None');
      const policy = find(objects, 'NetworkPolicy');
      assert.ok(selects(policy.spec.podSelector.matchLabels, deployment.spec.template.metadata.labels));
      for (const rule of policy.spec.ingress) for (const port of rule.ports) assert.ok(port.port in ports, port.port);
    });

    it('every selector selects the pods, and the HPA, PDB, ServiceMonitor point at what exists', () => {
      const labels = deployment.spec.template.metadata.labels;
      assert.ok(selects(deployment.spec.selector.matchLabels, labels));
      for (const spread of pod.topologySpreadConstraints) assert.ok(selects(spread.labelSelector.matchLabels, labels));
      assert.deepEqual(
        pod.topologySpreadConstraints.map((s: Manifest) => s.topologyKey),
        ['kubernetes.io/hostname', 'topology.kubernetes.io/zone'],
      );
      assert.ok(selects(find(objects, 'PodDisruptionBudget').spec.selector.matchLabels, labels));
      const hpa = find(objects, 'HorizontalPodAutoscaler');
      assert.deepEqual(hpa.spec.scaleTargetRef, { apiVersion: 'apps/v1', kind: 'Deployment', name: 'gatehouse' });
      assert.ok(hpa.spec.minReplicas <= deployment.spec.replicas && deployment.spec.replicas <= hpa.spec.maxReplicas);
      assert.equal(hpa.spec.metrics[0].resource.name, 'cpu');
      const monitor = find(objects, 'ServiceMonitor');
      const scraped = objects.filter((o) => o.kind === 'Service' && selects(monitor.spec.selector.matchLabels, o.metadata.labels));
      const endpoint = monitor.spec.endpoints[0];
      assert.ok(
        scraped.some((s) => s.spec.ports.some((p: Manifest) => p.name === endpoint.port)),
        'a scraped Service has the port',
      );
      assert.equal(endpoint.path, '/metrics');
      assert.equal(pod.serviceAccountName, find(objects, 'ServiceAccount').metadata.name);
    });

    it('with mTLS on gRPC, the HTTP port gives no decisions without a certificate', () => {
      if (!config.server.tls?.client_ca) return;
      assert.ok(
        !config.server.forward_auth || config.server.http_tls?.client_ca,
        'server.tls.client_ca is set: set server.forward_auth: false, or server.http_tls with a client_ca',
      );
    });

    it('the grace period covers the preStop wait, the shutdown delay and the drain', () => {
      const preStop = container.lifecycle.preStop.sleep.seconds * 1000;
      const needed = preStop + config.server.shutdown_delay + config.server.shutdown_grace;
      assert.ok(pod.terminationGracePeriodSeconds * 1000 >= needed + 5000, `${pod.terminationGracePeriodSeconds} s < ${needed} ms + 5 s`);
      assert.ok(preStop + config.server.shutdown_delay >= parseDuration('5s')!, 'endpoints get time to drop the pod');
      assert.equal(deployment.spec.strategy.rollingUpdate.maxUnavailable, 0);
    });

    it('runs non-root (the image user), read-only, unprivileged, with no capabilities and bounded resources', () => {
      assert.equal(pod.securityContext.runAsNonRoot, true);
      assert.equal(pod.securityContext.runAsUser, 1000, "the node image's `node` user");
      assert.match(read('Dockerfile'), /^USER node$/m);
      assert.deepEqual(container.securityContext, {
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        privileged: false,
        capabilities: { drop: ['ALL'] },
      });
      assert.equal(pod.automountServiceAccountToken, false);
      for (const key of ['cpu', 'memory']) {
        assert.ok(container.resources.requests[key], `requests.${key}`);
        assert.ok(container.resources.limits[key], `limits.${key}`);
      }
      const nodeOptions: string = container.env.find((e: Manifest) => e.name === 'NODE_OPTIONS').value;
      const heapMiB = Number(/--max-old-space-size=(\d+)/.exec(nodeOptions)![1]);
      const limitMiB = Number(/^(\d+)Mi$/.exec(container.resources.limits.memory)![1]);
      assert.ok(heapMiB <= limitMiB / 2, `${heapMiB} MiB of heap in a ${limitMiB} MiB container`);
      assert.match(read('Dockerfile'), new RegExp(`^ENV NODE_OPTIONS=${nodeOptions}$`, 'm'));
    });

    it('renders exactly as kubectl kustomize renders it', (t) => {
      const dir = join(k8s, name === 'base' ? 'base' : 'overlays/production');
      const theirs = kubectlKustomize(dir);
      if (!theirs) return t.skip('kubectl is not installed');
      const key = (o: Manifest) => `${o.kind}/${o.metadata.name}`;
      const sorted = (list: Manifest[]) => [...list].sort((a, b) => key(a).localeCompare(key(b)));
      assert.deepEqual(sorted(objects), sorted(theirs));
    });
  });
}

describe('deploy/kubernetes production overlay', () => {
  it('turns on mTLS from the projected Secret and moves liveness off the plaintext gRPC probe', () => {
    const objects = rendered.production!;
    const pod = podSpecOf(find(objects, 'Deployment'))!;
    assert.deepEqual(pod.containers[0].livenessProbe.httpGet, { path: '/healthz', port: 'http' });
    assert.ok(objects.every((o) => o.metadata.namespace === 'gatehouse'));
    assert.match(pod.containers[0].image, /^registry\.example\.com\/gatehouse:\d/);
    const text: string = find(objects, 'ConfigMap', 'gatehouse-config').data['gatehouse.yaml'];
    assert.match(text, /client_ca: \/etc\/gatehouse\/tls\/ca\.crt/);
  });
});

describe('deploy/kubernetes probes', () => {
  let issuer: LoopbackIssuer;
  let gh: TestGatehouse;
  before(async () => {
    issuer = await startLoopbackIssuer();
    gh = await startTestGatehouse({ issuers: [{ id: 'idp', type: 'oidc', issuer: issuer.issuer, audiences: [LOOPBACK_AUDIENCE] }] });
  });
  after(async () => {
    await gh.close();
    await issuer.close();
  });

  it('gatehouse answers each probe the manifests declare: the http paths 200, the gRPC one SERVING', async () => {
    const probes = Object.values(rendered).flatMap((objects) => {
      const container = podSpecOf(find(objects, 'Deployment'))!.containers[0];
      return [container.readinessProbe, container.livenessProbe];
    });
    for (const probe of probes) {
      if (probe.httpGet) {
        assert.equal(probe.httpGet.port, 'http');
        const res = await fetch(`http://127.0.0.1:${gh.gatehouse.httpPort}${probe.httpGet.path}`);
        assert.equal(res.status, 200, probe.httpGet.path);
      } else {
        assert.equal(probe.grpc.port, portOf(checkedDefaults().server.grpc));
        const Health = makeClientConstructor(healthService, 'grpc.health.v1.Health');
        const health = new Health(gh.address, credentials.createInsecure()) as unknown as Client & {
          Check(req: { service: string }, cb: (err: Error | null, res?: { status: string }) => void): void;
        };
        const res = await new Promise<{ status: string }>((resolve, reject) =>
          health.Check({ service: probe.grpc.service ?? '' }, (err, r) => (err || !r ? reject(err) : resolve(r))),
        );
        health.close();
        assert.equal(res.status, 'SERVING');
      }
    }
  });
});

describe('deploy/kubernetes callers', () => {
  it('are valid, reach gatehouse through the headless Service, and pass its NetworkPolicy', () => {
    for (const object of callers) validateManifest(object);
    const base = rendered.base!;
    const clientLabels = find(base, 'NetworkPolicy').spec.ingress[0].from[0].podSelector.matchLabels;
    const headless = find(base, 'Service', 'gatehouse-headless');
    for (const deployment of callers.filter((o) => o.kind === 'Deployment')) {
      const template = deployment.spec.template;
      assert.ok(selects(clientLabels, template.metadata.labels), `${deployment.metadata.name} is let in`);
      assert.equal(template.metadata.labels['azure.workload.identity/use'], 'true');
      const target = template.spec.containers[0].env.find((e: Manifest) => e.name === 'GATEHOUSE_TARGET').value;
      assert.equal(target, `dns:///${headless.metadata.name}.gatehouse.svc.cluster.local:${headless.spec.ports[0].port}`);
    }
  });

  it('the workload identity ServiceAccount names a client and a tenant, and the Key Vault file is mounted', () => {
    const account = callers.find((o) => o.kind === 'ServiceAccount')!;
    assert.match(account.metadata.annotations['azure.workload.identity/client-id'], GUID);
    assert.match(account.metadata.annotations['azure.workload.identity/tenant-id'], GUID);
    const spc = callers.find((o) => o.kind === 'SecretProviderClass')!;
    const withSecret = callers.find((o) => o.metadata.name === 'storefront-with-secret')!;
    const pod = podSpecOf(withSecret)!;
    assert.equal(pod.serviceAccountName, account.metadata.name);
    assert.equal(pod.volumes[0].csi.volumeAttributes.secretProviderClass, spc.metadata.name);
    const alias = /objectAlias: (\S+)/.exec(spc.spec.parameters.objects)![1];
    const file = pod.containers[0].env.find((e: Manifest) => e.name === 'CLIENT_SECRET_FILE').value;
    assert.equal(file, `${pod.containers[0].volumeMounts[0].mountPath}/${alias}`);
  });
});

function portOf(address: string): number {
  return Number(address.slice(address.lastIndexOf(':') + 1));
}

/** The defaults the code gives an otherwise empty server block. */
function checkedDefaults(): Config {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-defaults-'));
  try {
    writeFileSync(join(dir, 'g.yaml'), 'issuers: [{ id: x, type: oidc, issuer: "https://idp.example", audiences: [a] }]\nrules: []\n');
    const checked = checkConfigFile(join(dir, 'g.yaml'));
    assert.ok(checked.ok);
    return checked.config;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
