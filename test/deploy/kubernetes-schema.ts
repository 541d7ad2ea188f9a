/**
 * Every manifest under deploy/kubernetes validated against the Kubernetes API schema, with kubernetes-models
 * (generated from the API server's OpenAPI documents) and its Prometheus Operator models for the ServiceMonitor.
 * SecretProviderClass (the Secrets Store CSI driver's CRD) has no published model: its spec is checked against
 * the CRD's three fields (provider, parameters as strings, secretObjects) instead.
 */
import { ConfigMap, Secret, Service, ServiceAccount } from 'kubernetes-models/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ObjectMeta } from '@kubernetes-models/apimachinery/apis/meta/v1';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import type { Manifest } from './kustomize.js';

type Model = new (data: any) => { validate(): void };

const MODELS: Record<string, Model> = {
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'v1/ServiceAccount': ServiceAccount,
  'apps/v1/Deployment': Deployment,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'monitoring.coreos.com/v1/ServiceMonitor': ServiceMonitor,
};

/** Throws, naming the object and the schema path, if `object` is not valid for its apiVersion and kind. */
export function validateManifest(object: Manifest): void {
  const id = `${object.apiVersion}/${object.kind}`;
  try {
    if (id === 'secrets-store.csi.x-k8s.io/v1/SecretProviderClass') return validateSecretProviderClass(object);
    const model = MODELS[id];
    if (!model) throw new Error(`no schema for ${id}`);
    new model(object).validate();
  } catch (err) {
    throw new Error(`${object.kind}/${object.metadata?.name}: ${(err as Error).message}`);
  }
}

function validateSecretProviderClass(object: Manifest): void {
  new ObjectMeta(object.metadata).validate();
  const { provider, parameters, secretObjects, ...rest } = object.spec ?? {};
  if (Object.keys(rest).length > 0) throw new Error(`spec has unknown fields ${Object.keys(rest).join(', ')}`);
  if (typeof provider !== 'string') throw new Error('spec.provider must be a string');
  for (const [key, value] of Object.entries(parameters ?? {})) {
    if (typeof value !== 'string') throw new Error(`spec.parameters.${key} must be a string`);
  }
  if (secretObjects !== undefined && !Array.isArray(secretObjects)) throw new Error('spec.secretObjects must be a list');
}
