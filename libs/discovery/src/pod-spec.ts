import { parseDocument } from 'yaml';
import { errorMessage } from './errors';
import type { DiscoveredPod } from './types';

/** vLLM's inference port. */
export const DEFAULT_HTTP_PORT = 8000;
/** vLLM's (and llm-d's) default KV-events PUB port. */
export const DEFAULT_ZMQ_PORT = 5557;

/**
 * One pod as written in a static list or a pods file. Omitted fields get the defaults shown;
 * unknown keys are errors (a typo such as `zmqPort` must not silently fall back to a default).
 */
export interface PodSpec {
  /** IP address or host name; IPv6 without brackets. */
  address: string;
  /** @default 8000 */
  httpPort?: number;
  /** @default `<address>:<httpPort>` */
  id?: string;
  /** `tcp://host:port` or `ipc://path`. @default `tcp://<address>:5557` */
  zmqEndpoint?: string;
  /** `tcp://host:port`, `ipc://path`, or null for a pod without replay socket. @default null */
  replayEndpoint?: string | null;
  model?: string;
  name?: string;
}

const POD_SPEC_KEYS: readonly string[] = ['address', 'httpPort', 'id', 'zmqEndpoint', 'replayEndpoint', 'model', 'name'] satisfies readonly (keyof PodSpec)[];

/** `<address>:<port>`, unbracketed even for IPv6 (the form vLLM and llm-d put in topics). */
export function formatPodId(address: string, httpPort: number): string {
  return `${address}:${httpPort}`;
}

/** `tcp://<address>:<port>`, with an IPv6 address in brackets as ZeroMQ expects. */
/** `host:port` as URLs and Host headers need it: an IPv6 address in brackets. */
export function hostPort(address: string, port: number | string): string {
  return `${address.includes(':') ? `[${address}]` : address}:${port}`;
}

export function tcpEndpoint(address: string, port: number): string {
  return `tcp://${hostPort(address, port)}`;
}

export function isPort(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 65_535;
}

/** Why `value` is not a ZeroMQ endpoint a subscriber can connect to, or undefined when it is one. */
export function endpointProblem(value: string): string | undefined {
  if (value.startsWith('ipc://')) return value.length > 'ipc://'.length ? undefined : 'ipc:// needs a path';
  const match = /^tcp:\/\/(\[[0-9A-Fa-f:.]+\]|[^\s:/[\]]+):(\d{1,5})$/.exec(value);
  if (!match) return 'must be tcp://<host>:<port> (IPv6 in brackets) or ipc://<path>';
  if (match[1] === '*') return 'must name the pod, not bind to * (the subscriber connects to it)';
  return isPort(Number(match[2])) ? undefined : 'port must be 1-65535';
}

/** Why `value` is not a usable pod address, or undefined. */
function addressProblem(value: string): string | undefined {
  if (value.length === 0) return 'must not be empty';
  if (/[\s/@[\]]/.test(value)) return 'must be a bare IP or host name (no brackets, spaces, "/" or "@")';
  return undefined;
}

/**
 * Validates pod specs (from code or a parsed file) and fills in the defaults. Collects every
 * problem, each prefixed with its place (`pods[2].httpPort: ...`), instead of stopping at the
 * first; `pods` holds only the valid specs and should not be used when `problems` is non-empty.
 */
export function normalizePodSpecs(specs: unknown): { pods: DiscoveredPod[]; problems: string[] } {
  const problems: string[] = [];
  if (!Array.isArray(specs)) return { pods: [], problems: [`pods: must be a list, got ${describe(specs)}`] };
  const pods: DiscoveredPod[] = [];
  const firstIndexOfId = new Map<string, number>();
  specs.forEach((spec: unknown, index) => {
    const where = `pods[${index}]`;
    const pod = normalizePodSpec(spec, where, problems);
    if (!pod) return;
    const earlier = firstIndexOfId.get(pod.id);
    if (earlier !== undefined) {
      problems.push(`${where}.id: duplicate pod id "${pod.id}" (also pods[${earlier}])`);
      return;
    }
    firstIndexOfId.set(pod.id, index);
    pods.push(pod);
  });
  return { pods, problems };
}

function normalizePodSpec(spec: unknown, where: string, problems: string[]): DiscoveredPod | undefined {
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) {
    problems.push(`${where}: must be a mapping with at least "address", got ${describe(spec)}`);
    return undefined;
  }
  const fields = spec as Record<string, unknown>;
  const before = problems.length;
  for (const key of Object.keys(fields)) {
    if (!POD_SPEC_KEYS.includes(key)) problems.push(`${where}: unknown key "${key}" (known: ${POD_SPEC_KEYS.join(', ')})`);
  }
  const text = (key: string, required: boolean): string | undefined => {
    const value = fields[key];
    if (value === undefined) {
      if (required) problems.push(`${where}.${key}: required`);
      return undefined;
    }
    if (typeof value !== 'string' || value.length === 0) {
      problems.push(`${where}.${key}: must be a non-empty string, got ${describe(value)}`);
      return undefined;
    }
    return value;
  };
  const address = text('address', true);
  const addressIssue = address === undefined ? undefined : addressProblem(address);
  if (addressIssue) problems.push(`${where}.address: ${addressIssue}, got ${describe(address)}`);

  let httpPort = DEFAULT_HTTP_PORT;
  if (fields['httpPort'] !== undefined) {
    if (isPort(fields['httpPort'])) httpPort = fields['httpPort'];
    else problems.push(`${where}.httpPort: must be an integer 1-65535, got ${describe(fields['httpPort'])}`);
  }
  const id = text('id', false);
  if (id !== undefined && /[\s@]/.test(id)) problems.push(`${where}.id: must not contain spaces or "@" (topic separator), got ${describe(id)}`);

  const endpoint = (key: 'zmqEndpoint' | 'replayEndpoint'): string | undefined => {
    const value = text(key, false);
    const issue = value === undefined ? undefined : endpointProblem(value);
    if (issue) problems.push(`${where}.${key}: ${issue}, got ${describe(value)}`);
    return value;
  };
  const zmqEndpoint = endpoint('zmqEndpoint');
  const replayEndpoint = fields['replayEndpoint'] === null ? null : (endpoint('replayEndpoint') ?? null);
  const model = text('model', false);
  const name = text('name', false);

  if (problems.length > before || address === undefined) return undefined;
  return freezePod({
    id: id ?? formatPodId(address, httpPort),
    address,
    httpPort,
    zmqEndpoint: zmqEndpoint ?? tcpEndpoint(address, DEFAULT_ZMQ_PORT),
    replayEndpoint,
    ...(model !== undefined ? { model } : {}),
    ...(name !== undefined ? { name } : {}),
  });
}

/**
 * Parses the text of a pods file (YAML 1.2, so JSON too): either a list of pod specs or a
 * mapping whose only key is `pods`. An empty file is a problem, not an empty set: a writer that
 * truncated the file must not make every pod disappear (write `pods: []` to mean "no pods").
 */
export function parsePodsFile(text: string): { pods: DiscoveredPod[]; problems: string[] } {
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0) {
    return { pods: [], problems: doc.errors.map((err) => `YAML: ${firstLine(err.message)}`) };
  }
  let value: unknown;
  try {
    value = doc.toJS();
  } catch (err) {
    // e.g. yaml's guard against alias bombs ("Excessive alias count")
    return { pods: [], problems: [`YAML: ${errorMessage(err)}`] };
  }
  if (value === null || value === undefined) {
    return { pods: [], problems: ['the file is empty; write "pods: []" for an empty set'] };
  }
  if (Array.isArray(value)) return normalizePodSpecs(value);
  if (typeof value === 'object') {
    const extra = Object.keys(value).filter((key) => key !== 'pods');
    const problems = extra.map((key) => `unknown top-level key "${key}" (expected a list of pods, or "pods:")`);
    const pods = (value as Record<string, unknown>)['pods'];
    if (pods === undefined) return { pods: [], problems: [...problems, 'pods: required (a list, "[]" for none)'] };
    const result = normalizePodSpecs(pods);
    return { pods: result.pods, problems: [...problems, ...result.problems] };
  }
  return { pods: [], problems: [`expected a list of pods or a mapping with "pods", got ${describe(value)}`] };
}

export function freezePod(pod: DiscoveredPod): DiscoveredPod {
  return Object.freeze({ ...pod });
}

function firstLine(message: string): string {
  return message.split('\n', 1)[0] ?? message;
}

/** A short, safe rendering of a config value for a problem message. */
function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
  return `${typeof value} ${String(value)}`;
}
