/** What the tests read of a process's memory and of the shipped Deployment's memory settings. */
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';

export interface ShippedContainer {
  /** `resources.limits.memory`, in MiB. */
  readonly limitMiB: number;
  /** The container's `NODE_OPTIONS` (the V8 heap bound), '' when absent. */
  readonly nodeOptions: string;
}

interface Container {
  env?: { name: string; value: string }[];
  resources: { limits: { memory: string } };
}

/** The gatehouse container of deploy/kubernetes/base/deployment.yaml. */
export function shippedContainer(): ShippedContainer {
  const text = readFileSync(new URL('../../deploy/kubernetes/base/deployment.yaml', import.meta.url), 'utf8');
  const deployment = parseAllDocuments(text)
    .map((doc) => doc.toJS() as { kind: string; spec: { template: { spec: { containers: Container[] } } } })
    .find((doc) => doc.kind === 'Deployment')!;
  const container = deployment.spec.template.spec.containers[0]!;
  return {
    limitMiB: Number(/^(\d+)Mi$/.exec(container.resources.limits.memory)![1]),
    nodeOptions: container.env?.find((e) => e.name === 'NODE_OPTIONS')?.value ?? '',
  };
}

/** The resident set of process `pid`, in MiB, from /proc. */
export function rssMiB(pid: number): number {
  return Number(/^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
}
