/**
 * Renders a kustomization the way `kubectl kustomize` does, for the features deploy/kubernetes uses and no more:
 * `resources` (files and directories), `namespace`, `labels` (metadata only), `images` and JSON 6902 `patches`
 * (applied by fast-json-patch). Any other field is refused, so a feature added to the manifests cannot be
 * ignored here silently. When kubectl is on PATH, the tests compare this rendering with its own.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import jsonPatch, { type Operation } from 'fast-json-patch';
import { parse, parseAllDocuments } from 'yaml';

export type Manifest = Record<string, any>;

const SUPPORTED = new Set(['apiVersion', 'kind', 'resources', 'namespace', 'labels', 'images', 'patches']);
/** Kinds a `namespace:` leaves alone. */
const CLUSTER_SCOPED = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition']);

export function renderKustomization(dir: string): Manifest[] {
  const kustomization = parse(readFileSync(join(dir, 'kustomization.yaml'), 'utf8')) as Record<string, any>;
  for (const key of Object.keys(kustomization)) {
    if (!SUPPORTED.has(key)) throw new Error(`${dir}/kustomization.yaml: ${key} is not supported by this renderer`);
  }
  let objects: Manifest[] = (kustomization.resources as string[]).flatMap((resource) => {
    const path = join(dir, resource);
    return statSync(path).isDirectory() ? renderKustomization(path) : readManifests(path);
  });
  for (const { target, path, patch } of (kustomization.patches ?? []) as { target: Manifest; path?: string; patch?: string }[]) {
    const operations = parse(path ? readFileSync(join(dir, path), 'utf8') : patch!) as Operation[];
    if (!Array.isArray(operations)) throw new Error(`${dir}: only JSON 6902 patches (a list of operations) are supported`);
    const matching = objects.filter((o) => o.kind === target.kind && o.metadata.name === target.name);
    if (matching.length !== 1) throw new Error(`${dir}: patch target ${target.kind}/${target.name} matches ${matching.length} objects`);
    objects = objects.map((o) => (o === matching[0] ? jsonPatch.applyPatch(structuredClone(o), operations, true).newDocument : o));
  }
  for (const object of objects) {
    for (const { pairs } of (kustomization.labels ?? []) as { pairs: Record<string, string> }[]) {
      object.metadata.labels = { ...object.metadata.labels, ...pairs };
    }
    if (kustomization.namespace && !CLUSTER_SCOPED.has(object.kind)) object.metadata.namespace = kustomization.namespace;
    for (const image of (kustomization.images ?? []) as { name: string; newName?: string; newTag?: string }[]) {
      for (const container of podSpecOf(object)?.containers ?? []) {
        const [name, tag] = String(container.image).split(':');
        if (name === image.name) container.image = `${image.newName ?? name}:${image.newTag ?? tag}`;
      }
    }
  }
  return objects;
}

export function readManifests(path: string): Manifest[] {
  return parseAllDocuments(readFileSync(path, 'utf8'))
    .map((d) => d.toJS() as Manifest | null)
    .filter((d): d is Manifest => d !== null);
}

/** The pod spec of a workload, or undefined. */
export function podSpecOf(object: Manifest): Manifest | undefined {
  return object.spec?.template?.spec;
}

/** `kubectl kustomize DIR`, when kubectl is installed; undefined otherwise. */
export function kubectlKustomize(dir: string): Manifest[] | undefined {
  const run = spawnSync('kubectl', ['kustomize', dir], { encoding: 'utf8' });
  if (run.error || run.status !== 0) return undefined;
  return parseAllDocuments(run.stdout).map((d) => d.toJS() as Manifest);
}
