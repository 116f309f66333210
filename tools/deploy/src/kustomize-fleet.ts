/**
 * The vLLM overlay rendered with the real `kubectl kustomize`, and the "must match" rules between
 * the model servers and the router (llm-d's guide: vLLM --block-size equals the router's block
 * size, the served model is the one the router tokenizes for, the topic names the pod as the
 * router does, and discovery dials the ports vLLM binds).
 */
import { join } from 'node:path';
import type { IContainer } from 'kubernetes-models/v1/Container';
import { REPO_ROOT, runToolOk } from './helm-binaries';
import { kvrContainers, loadContainerConfig } from './helm-apps';
import { expandVars, parseManifests, podTemplate, resolveEnv, workloads, type K8sObject } from './helm-manifests';

export const VLLM_DIR = join(REPO_ROOT, 'deploy', 'vllm');

const renders = new Map<string, K8sObject[]>();

/** `kubectl kustomize deploy/vllm/<overlay>`; each overlay renders once per test file. */
export function renderOverlay(overlay: string): K8sObject[] {
  let objects = renders.get(overlay);
  if (!objects) {
    objects = parseManifests(runToolOk('kubectl', ['kustomize', join(VLLM_DIR, overlay)]));
    renders.set(overlay, objects);
  }
  return objects;
}

/** What a vLLM model server is configured with, after Kubernetes expanded its `$(VAR)`s. */
export interface ServerFacts {
  workload: string;
  labels: Record<string, string>;
  servedModel: string;
  blockSize: number | undefined;
  httpPort: number;
  kvEvents: {
    enabled: boolean;
    publisher: string | undefined;
    endpointPort: number | undefined;
    replayPort: number | undefined;
    topic: string;
  };
  /** The pod's IP as the checks sampled it (the topic must carry it with the HTTP port). */
  podIp: string;
}

function flagValue(args: readonly string[], flag: string): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    if (arg === flag) return args[i + 1];
    if (arg.startsWith(`${flag}=`)) return arg.slice(flag.length + 1);
  }
  return undefined;
}

/** Flags that take no value, so that the word after them is not mistaken for one. */
const BOOLEAN_FLAGS = new Set(['--enable-prefix-caching', '--no-enable-prefix-caching', '--trust-remote-code', '--enforce-eager', '--disable-log-requests']);

/** The positional model argument of `vllm serve`: the first word that is no flag or flag value. */
function positionalModel(args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    if (!arg.startsWith('--')) return arg;
    if (!arg.includes('=') && !BOOLEAN_FLAGS.has(arg)) i++;
  }
  return undefined;
}

function tcpPort(endpoint: unknown): number | undefined {
  if (typeof endpoint !== 'string') return undefined;
  const match = /^tcp:\/\/[^:]+:(\d+)$/.exec(endpoint);
  return match ? Number(match[1]) : undefined;
}

function isVllm(c: IContainer): boolean {
  return c.command?.[0] === 'vllm' && c.command[1] === 'serve';
}

/** Every `vllm serve` container of an overlay. */
export function serverFacts(objects: readonly K8sObject[]): ServerFacts[] {
  const facts: ServerFacts[] = [];
  for (const workload of workloads(objects)) {
    const { labels, spec } = podTemplate(workload);
    for (const c of spec.containers.filter(isVllm)) {
      const { env } = resolveEnv(c, { HF_TOKEN: 'hf_sample' });
      const args = (c.args ?? []).map((arg) => expandVars(arg, env));
      const config = JSON.parse(flagValue(args, '--kv-events-config') ?? '{}') as Record<string, unknown>;
      const blockSize = flagValue(args, '--block-size');
      const port = flagValue(args, '--port');
      facts.push({
        workload: workload.metadata.name,
        labels,
        servedModel: flagValue(args, '--served-model-name') ?? positionalModel(args) ?? '',
        blockSize: blockSize === undefined ? undefined : Number(blockSize),
        httpPort: port === undefined ? 8000 : Number(port),
        kvEvents: {
          enabled: config['enable_kv_cache_events'] === true,
          publisher: typeof config['publisher'] === 'string' ? config['publisher'] : undefined,
          endpointPort: tcpPort(config['endpoint']),
          replayPort: tcpPort(config['replay_endpoint']),
          topic: typeof config['topic'] === 'string' ? config['topic'] : '',
        },
        podIp: env['POD_IP'] ?? '',
      });
    }
  }
  return facts;
}

interface DiscoveryConfig {
  labelSelector: string;
  httpPort: number;
  zmqPort: number;
  replayPort: number;
  kind: string;
}

/** What the rendered chart configures the router with, read through each app's config loader. */
export interface RouterFacts {
  indexerBlockSize: number;
  gatewayBlockSize: number;
  indexerHashSeed: string;
  gatewayHashSeed: string;
  tokenizerModels: string[];
  topicPrefix: string;
  /** Per app that discovers pods (gateway, collector, load-scorer). */
  discovery: Record<string, DiscoveryConfig>;
}

export function routerFacts(chart: readonly K8sObject[]): RouterFacts {
  const configs = new Map<string, Record<string, unknown>>();
  for (const entry of kvrContainers(chart)) configs.set(entry.subcommand, loadContainerConfig(entry).config);
  const get = (app: string): Record<string, unknown> => {
    const config = configs.get(app);
    if (!config) throw new Error(`the chart runs no kvr ${app}`);
    return config;
  };
  const discovery: Record<string, DiscoveryConfig> = {};
  for (const app of ['gateway', 'collector', 'load-scorer']) discovery[app] = get(app)['discovery'] as DiscoveryConfig;
  return {
    indexerBlockSize: get('indexer')['blockSize'] as number,
    gatewayBlockSize: get('gateway')['blockSize'] as number,
    indexerHashSeed: get('indexer')['hashSeed'] as string,
    gatewayHashSeed: get('gateway')['hashSeed'] as string,
    tokenizerModels: (get('tokenizer')['models'] as { preload: string[] }).preload,
    topicPrefix: (get('collector')['zmq'] as { topicPrefix: string }).topicPrefix,
    discovery,
  };
}

type Requirement = { key: string; op: 'exists' | 'absent' | 'in' | 'notin'; values: string[] };

/** A Kubernetes label selector string (`a=b,c!=d,e in (f,g),!h`) as requirements. */
export function parseLabelSelector(selector: string): Requirement[] {
  const requirements: Requirement[] = [];
  // Split on commas outside parentheses.
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of selector) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else current += ch;
  }
  parts.push(current);
  for (const raw of parts.map((p) => p.trim()).filter(Boolean)) {
    let m: RegExpExecArray | null;
    if ((m = /^(\S+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(raw))) {
      requirements.push({ key: m[1] ?? '', op: m[2] === 'in' ? 'in' : 'notin', values: (m[3] ?? '').split(',').map((v) => v.trim()) });
    } else if ((m = /^([^!=\s]+)\s*!=\s*(\S*)$/.exec(raw))) {
      requirements.push({ key: m[1] ?? '', op: 'notin', values: [m[2] ?? ''] });
    } else if ((m = /^([^!=\s]+)\s*==?\s*(\S*)$/.exec(raw))) {
      requirements.push({ key: m[1] ?? '', op: 'in', values: [m[2] ?? ''] });
    } else if ((m = /^!(\S+)$/.exec(raw))) {
      requirements.push({ key: m[1] ?? '', op: 'absent', values: [] });
    } else if ((m = /^(\S+)$/.exec(raw))) {
      requirements.push({ key: m[1] ?? '', op: 'exists', values: [] });
    } else {
      throw new Error(`cannot parse label selector requirement "${raw}"`);
    }
  }
  return requirements;
}

export function selectorMatches(selector: string, labels: Readonly<Record<string, string>>): boolean {
  return parseLabelSelector(selector).every(({ key, op, values }) => {
    const has = Object.prototype.hasOwnProperty.call(labels, key);
    switch (op) {
      case 'exists':
        return has;
      case 'absent':
        return !has;
      case 'in':
        return has && values.includes(labels[key] ?? '');
      case 'notin':
        return !has || !values.includes(labels[key] ?? '');
    }
  });
}

/**
 * Every way the model servers and the router disagree; empty when routing can hit. Each of these
 * mismatches makes the router's keys or pod ids differ from what the index holds, so requests
 * route as if nothing were cached, without an error anywhere.
 */
export function fleetMismatches(servers: readonly ServerFacts[], router: RouterFacts): string[] {
  const problems: string[] = [];
  if (servers.length === 0) problems.push('the overlay runs no `vllm serve` container');
  if (router.indexerBlockSize !== router.gatewayBlockSize) problems.push(`indexer block size ${router.indexerBlockSize} ≠ gateway block size ${router.gatewayBlockSize}`);
  if (router.indexerHashSeed !== router.gatewayHashSeed) problems.push(`indexer hash seed "${router.indexerHashSeed}" ≠ gateway hash seed "${router.gatewayHashSeed}"`);
  for (const s of servers) {
    const at = `${s.workload}:`;
    if (s.blockSize === undefined) problems.push(`${at} no --block-size (vLLM's default depends on the backend; the router needs it explicit)`);
    else if (s.blockSize !== router.indexerBlockSize) problems.push(`${at} vLLM --block-size ${s.blockSize} ≠ router block size ${router.indexerBlockSize}`);
    if (!router.tokenizerModels.includes(s.servedModel)) problems.push(`${at} serves "${s.servedModel}" but the tokenizer loads ${JSON.stringify(router.tokenizerModels)}`);
    if (!s.kvEvents.enabled || s.kvEvents.publisher !== 'zmq') problems.push(`${at} KV events are not published on ZMQ (enable_kv_cache_events, publisher: zmq)`);
    const topic = /^([^@]*)@([^@]+)@([^@]+)$/.exec(s.kvEvents.topic);
    if (!topic) problems.push(`${at} topic "${s.kvEvents.topic}" is not <prefix>@<pod>@<model>`);
    else {
      if (`${topic[1] ?? ''}@` !== router.topicPrefix) problems.push(`${at} topic prefix "${topic[1] ?? ''}@" ≠ the collector's subscription "${router.topicPrefix}"`);
      if (topic[3] !== s.servedModel) problems.push(`${at} topic model "${topic[3] ?? ''}" ≠ served model "${s.servedModel}"`);
    }
    for (const [app, d] of Object.entries(router.discovery)) {
      if (d.kind !== 'kubernetes') problems.push(`${app}: discovery kind ${d.kind}, not kubernetes`);
      if (!selectorMatches(d.labelSelector, s.labels)) problems.push(`${app}: label selector "${d.labelSelector}" does not select the ${s.workload} pods`);
      if (d.httpPort !== s.httpPort) problems.push(`${app}: discovery HTTP port ${d.httpPort} ≠ vLLM port ${s.httpPort}`);
      if (topic && topic[2] !== `${s.podIp}:${d.httpPort}`) problems.push(`${app}: pods are known as <ip>:${d.httpPort} but the topic names them "${topic[2] ?? ''}"`);
      if (d.zmqPort !== s.kvEvents.endpointPort) problems.push(`${app}: discovery ZMQ port ${d.zmqPort} ≠ vLLM KV-events endpoint port ${String(s.kvEvents.endpointPort)}`);
      const replay = s.kvEvents.replayPort ?? 0;
      if (d.replayPort !== replay) problems.push(`${app}: discovery replay port ${d.replayPort} ≠ vLLM replay_endpoint port ${replay}`);
    }
  }
  return problems;
}
