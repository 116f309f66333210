/**
 * Validation of rendered manifests against Kubernetes' own schemas, in two passes:
 *
 * 1. `kubernetes-models` (generated from the Kubernetes OpenAPI spec and the Gateway API and
 *    Prometheus Operator CRDs, validated with ajv): types, required fields, enums, formats.
 * 2. The same package's TypeScript declarations, through the TypeScript compiler: every object
 *    becomes an object literal of its declared type, so a property that does not exist anywhere
 *    in the tree (`readinesProbe`, `matchLabel`) is an error. The OpenAPI schemas cannot catch
 *    those (they allow unknown properties), and the API server would drop them silently.
 */
import { join } from 'node:path';
import ts from 'typescript';
import { REPO_ROOT } from './helm-binaries';
import type { K8sObject } from './helm-manifests';

interface ModelClass {
  new (data: unknown): { validate(): void };
}

interface ModelInfo {
  /** Module of the model, e.g. `kubernetes-models/apps/v1/Deployment`. */
  module: string;
  /** Exported class (and `I<Class>` interface) name. */
  className: string;
}

/** Every apiVersion/kind the chart, the overlay and the monitoring manifests produce. */
const MODELS: Readonly<Record<string, ModelInfo>> = {
  'apps/v1/Deployment': { module: 'kubernetes-models/apps/v1/Deployment', className: 'Deployment' },
  'apps/v1/StatefulSet': { module: 'kubernetes-models/apps/v1/StatefulSet', className: 'StatefulSet' },
  'v1/Service': { module: 'kubernetes-models/v1/Service', className: 'Service' },
  'v1/ServiceAccount': { module: 'kubernetes-models/v1/ServiceAccount', className: 'ServiceAccount' },
  'v1/Secret': { module: 'kubernetes-models/v1/Secret', className: 'Secret' },
  'v1/ConfigMap': { module: 'kubernetes-models/v1/ConfigMap', className: 'ConfigMap' },
  'policy/v1/PodDisruptionBudget': { module: 'kubernetes-models/policy/v1/PodDisruptionBudget', className: 'PodDisruptionBudget' },
  'autoscaling/v2/HorizontalPodAutoscaler': { module: 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler', className: 'HorizontalPodAutoscaler' },
  'networking.k8s.io/v1/NetworkPolicy': { module: 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy', className: 'NetworkPolicy' },
  'rbac.authorization.k8s.io/v1/Role': { module: 'kubernetes-models/rbac.authorization.k8s.io/v1/Role', className: 'Role' },
  'rbac.authorization.k8s.io/v1/RoleBinding': { module: 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding', className: 'RoleBinding' },
  'gateway.networking.k8s.io/v1/HTTPRoute': { module: '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/HTTPRoute', className: 'HTTPRoute' },
  'monitoring.coreos.com/v1/ServiceMonitor': { module: '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor', className: 'ServiceMonitor' },
  'monitoring.coreos.com/v1/PodMonitor': { module: '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PodMonitor', className: 'PodMonitor' },
};

function describe(o: K8sObject): string {
  return `${o.apiVersion} ${o.kind}/${o.metadata?.name ?? '?'}`;
}

function modelOf(o: K8sObject): ModelInfo {
  const info = MODELS[`${o.apiVersion}/${o.kind}`];
  if (!info) throw new Error(`${describe(o)}: no schema known for this apiVersion and kind`);
  return info;
}

/** Pass 1: one message per object that fails its OpenAPI schema. */
export function schemaProblems(objects: readonly K8sObject[]): string[] {
  const problems: string[] = [];
  for (const o of objects) {
    let info: ModelInfo;
    try {
      info = modelOf(o);
    } catch (err) {
      problems.push((err as Error).message);
      continue;
    }
    const Model = (require(info.module) as Record<string, ModelClass>)[info.className];
    if (!Model) throw new Error(`${info.module} exports no ${info.className}`);
    try {
      new Model(o).validate();
    } catch (err) {
      problems.push(`${describe(o)}: ${(err as Error).message}`);
    }
  }
  return problems;
}

/** Pass 2: one message per property that the object's TypeScript type does not declare. */
export function unknownFieldProblems(objects: readonly K8sObject[]): string[] {
  const file = join(REPO_ROOT, 'tools', 'deploy', 'src', '__rendered_manifests__.ts');
  const starts: number[] = [];
  let source = '';
  objects.forEach((o, i) => {
    const info = modelOf(o);
    starts.push(source.split('\n').length - 1);
    source += `export const m${i}: import('${info.module}').I${info.className} = ${JSON.stringify(o, null, 1)};\n`;
  });
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.Node16,
    moduleResolution: ts.ModuleResolutionKind.Node16,
    types: [],
    skipLibCheck: true,
  };
  const host = ts.createCompilerHost(options);
  const readSource = host.getSourceFile.bind(host);
  const exists = host.fileExists.bind(host);
  // The probe file exists only in memory; everything else (the models' .d.ts) is read from disk.
  host.getSourceFile = (name, languageVersion, ...rest) => (name === file ? ts.createSourceFile(name, source, languageVersion) : readSource(name, languageVersion, ...rest));
  host.fileExists = (name) => name === file || exists(name);
  const program = ts.createProgram([file], options, host);
  const problems: string[] = [];
  for (const diagnostic of ts.getPreEmitDiagnostics(program)) {
    const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, ' ');
    if (diagnostic.file?.fileName !== file || diagnostic.start === undefined) {
      problems.push(message);
      continue;
    }
    const line = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start).line;
    let index = starts.length - 1;
    while (index > 0 && (starts[index] ?? 0) > line) index--;
    const o = objects[index];
    problems.push(`${o ? describe(o) : '?'}: ${message}`);
  }
  return problems;
}

/** Both passes. */
export function manifestProblems(objects: readonly K8sObject[]): string[] {
  return [...schemaProblems(objects), ...unknownFieldProblems(objects)];
}
