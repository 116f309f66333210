/**
 * Rendering the chart with the real `helm template`, and reading the rendered objects the way
 * the kubelet and the API server would (label selectors, named ports, `$(VAR)` expansion).
 */
import { join } from 'node:path';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import type { IEnvVar } from 'kubernetes-models/v1/EnvVar';
import { parseAllDocuments } from 'yaml';
import { REPO_ROOT, runTool, runToolOk } from './helm-binaries';

export const CHART_DIR = join(REPO_ROOT, 'deploy', 'helm', 'kv-router');
export const RELEASE = 'kvr';
export const NAMESPACE = 'kvr-system';

/** A rendered object; its kind-specific fields are read through the kubernetes-models types. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

export interface RenderOptions {
  /** Values files, relative to the repo root. */
  valuesFiles?: readonly string[];
  /** `--set` assignments, `path=value`. */
  set?: readonly string[];
}

function templateArgs(options: RenderOptions): string[] {
  return [
    'template',
    RELEASE,
    CHART_DIR,
    '--namespace',
    NAMESPACE,
    ...(options.valuesFiles ?? []).flatMap((file) => ['--values', join(REPO_ROOT, file)]),
    ...(options.set ?? []).flatMap((assignment) => ['--set', assignment]),
  ];
}

/** The value sets in the chart's `ci/` folder (the ones `helm lint` also reads), by what they show. */
export const CHART_CI_VARIANTS: Readonly<Record<string, RenderOptions>> = {
  standalone: {},
  'gateway mode': { valuesFiles: ['deploy/helm/kv-router/ci/gateway-mode-values.yaml'] },
  'external NATS and Redis': { valuesFiles: ['deploy/helm/kv-router/ci/external-values.yaml'] },
  autoscaling: { valuesFiles: ['deploy/helm/kv-router/ci/autoscaling-values.yaml'] },
  'in-process tokenization, Redis index reads': { valuesFiles: ['deploy/helm/kv-router/ci/in-process-values.yaml'] },
};

/** Every YAML document of a multi-document text, empty ones dropped. */
export function parseManifests(text: string): K8sObject[] {
  const objects: K8sObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new Error(`invalid YAML in rendered output: ${doc.errors[0]?.message ?? ''}`);
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue;
    objects.push(value as K8sObject);
  }
  return objects;
}

const renders = new Map<string, K8sObject[]>();

/** `helm template` of the chart; the same options render once per test file. */
export function renderChart(options: RenderOptions = {}): K8sObject[] {
  const args = templateArgs(options);
  const key = args.join('\u0000');
  let objects = renders.get(key);
  if (!objects) {
    objects = parseManifests(runToolOk('helm', args));
    renders.set(key, objects);
  }
  return objects;
}

/** `helm template` expected to fail: its error text (throws when rendering succeeds). */
export function renderChartError(options: RenderOptions): string {
  const result = runTool('helm', templateArgs(options));
  if (result.status === 0) throw new Error(`helm template ${templateArgs(options).join(' ')} succeeded`);
  return result.stderr;
}

export function findAll(objects: readonly K8sObject[], kind: string): K8sObject[] {
  return objects.filter((o) => o.kind === kind);
}

export function find(objects: readonly K8sObject[], kind: string, name: string): K8sObject {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name} among ${objects.map((o) => `${o.kind}/${o.metadata.name}`).join(', ')}`);
  return found;
}

/** Name of a chart component's objects (Deployment, Service, …) in the test release. */
export function componentName(component: string): string {
  return `${RELEASE}-kv-router-${component}`;
}

/** The pod template of a Deployment or StatefulSet. */
export function podTemplate(workload: K8sObject): { labels: Record<string, string>; spec: IPodSpec } {
  const spec = workload['spec'] as { template?: { metadata?: { labels?: Record<string, string> }; spec?: IPodSpec } } | undefined;
  const template = spec?.template;
  if (!template?.spec) throw new Error(`${workload.kind}/${workload.metadata.name} has no pod template`);
  return { labels: template.metadata?.labels ?? {}, spec: template.spec };
}

export function workloads(objects: readonly K8sObject[]): K8sObject[] {
  return objects.filter((o) => o.kind === 'Deployment' || o.kind === 'StatefulSet');
}

export function container(pod: IPodSpec, name: string): IContainer {
  const found = pod.containers.find((c) => c.name === name);
  if (!found) throw new Error(`no container ${name} (containers: ${pod.containers.map((c) => c.name).join(', ')})`);
  return found;
}

/** A named or numbered container port as a number. */
export function containerPort(c: IContainer, port: number | string): number {
  if (typeof port === 'number') return port;
  const found = c.ports?.find((p) => p.name === port);
  if (!found) throw new Error(`container ${c.name} has no port named ${port}`);
  return found.containerPort;
}

/** equality-based `matchLabels` (the chart uses no expressions). */
export function matchesLabels(matchLabels: Record<string, string> | undefined, labels: Record<string, string>): boolean {
  return Object.entries(matchLabels ?? {}).every(([key, value]) => labels[key] === value);
}

/**
 * Kubernetes' `$(VAR)` expansion in env values, command and args: `$(NAME)` becomes the value of
 * an already defined variable, an unknown reference stays as written, `$$` is a literal `$`.
 */
export function expandVars(text: string, vars: Readonly<Record<string, string>>): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch !== '$' || i + 1 >= text.length) {
      out += ch;
      continue;
    }
    const next = text[i + 1];
    if (next === '$') {
      out += '$';
      i++;
    } else if (next === '(') {
      const close = text.indexOf(')', i + 2);
      const name = close < 0 ? undefined : text.slice(i + 2, close);
      if (name !== undefined && Object.prototype.hasOwnProperty.call(vars, name)) {
        out += vars[name];
        i = close;
      } else {
        out += ch;
      }
    } else {
      out += ch;
    }
  }
  return out;
}

/** Values the kubelet would fill in from the pod's own fields. */
const FIELD_SAMPLES: Readonly<Record<string, string>> = {
  'metadata.name': 'pod-0',
  'metadata.namespace': NAMESPACE,
  'status.podIP': '10.1.2.3',
  'spec.nodeName': 'node-0',
  'spec.serviceAccountName': 'default',
};

export interface ResolvedEnv {
  /** Every variable as the process would see it. */
  env: Record<string, string>;
  /** Variables taken from Secrets: name → the Secret's name and key. */
  fromSecrets: Record<string, { name: string; key: string }>;
}

/**
 * The environment of a container as the kubelet builds it: entries in order, `$(VAR)` expanded
 * against the ones before, field references from sample pod fields and Secret keys from
 * `secretSamples` (by variable name; a Secret-sourced variable without a sample is an error, so
 * that every such value is validated too).
 */
export function resolveEnv(c: IContainer, secretSamples: Readonly<Record<string, string>>): ResolvedEnv {
  const env: Record<string, string> = {};
  const fromSecrets: ResolvedEnv['fromSecrets'] = {};
  for (const entry of (c.env ?? []) as IEnvVar[]) {
    if (entry.valueFrom === undefined) {
      env[entry.name] = expandVars(entry.value ?? '', env);
      continue;
    }
    const { fieldRef, secretKeyRef } = entry.valueFrom;
    if (fieldRef) {
      const sample = FIELD_SAMPLES[fieldRef.fieldPath];
      if (sample === undefined) throw new Error(`${c.name}: ${entry.name} refers to pod field ${fieldRef.fieldPath}, which has no sample value`);
      env[entry.name] = sample;
    } else if (secretKeyRef) {
      const sample = secretSamples[entry.name];
      if (sample === undefined) throw new Error(`${c.name}: ${entry.name} comes from Secret ${secretKeyRef.name ?? ''} but has no sample value to validate`);
      env[entry.name] = sample;
      fromSecrets[entry.name] = { name: secretKeyRef.name ?? '', key: secretKeyRef.key };
    } else {
      throw new Error(`${c.name}: ${entry.name} uses a valueFrom the checks do not model`);
    }
  }
  return { env, fromSecrets };
}
