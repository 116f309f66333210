import { readFile } from 'node:fs/promises';
import * as http from 'node:http';
import * as https from 'node:https';
import { join } from 'node:path';
import { errorMessage } from './errors';
import { hostPort } from './pod-spec';
import type { KubePodList, KubeStatus } from './kube-pods';

/**
 * Where Kubernetes mounts a pod's service-account credentials (token, ca.crt, namespace). A
 * Kubernetes convention, the same on every node, not a path of this machine.
 */
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/** How to reach the API server. Every field defaults to the in-cluster value. */
export interface KubernetesConnectionOptions {
  /** e.g. `https://10.96.0.1:443`; `http://` is accepted (kubectl proxy, tests). @default `https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT` */
  apiServer?: string;
  /** A bearer token. Prefer `tokenFile`, which is re-read for each request as kubelet rotates it. */
  token?: string;
  /** @default `<serviceAccountDir>/token` when it exists; no Authorization header otherwise */
  tokenFile?: string;
  /** PEM CA bundle for an https API server. @default `<serviceAccountDir>/ca.crt` when it exists, else the system CAs */
  caFile?: string;
  /** @default the content of `<serviceAccountDir>/namespace` */
  namespace?: string;
  /** @default {@link SERVICE_ACCOUNT_DIR} */
  serviceAccountDir?: string;
  /** Environment to read `KUBERNETES_SERVICE_HOST`/`_PORT` from. @default process.env */
  env?: Readonly<Record<string, string | undefined>>;
}

/** A resolved, validated connection. */
export interface KubeConnection {
  /** Base URL, without a trailing slash (a path prefix such as a proxy's is kept). */
  readonly apiServer: URL;
  readonly namespace: string;
  readonly ca: Buffer | undefined;
  /** Where each setting came from, for the start-up log line (never the token itself). */
  readonly origin: { readonly token: string; readonly ca: string };
  /** The bearer token for the next request, or undefined to send none. */
  token(): Promise<string | undefined>;
}

const NAMESPACE_PATTERN = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/**
 * Resolves the connection from options, the environment and the service-account files.
 * Collects every problem rather than stopping at the first; `connection` is set only when there
 * is none.
 */
export async function resolveKubeConnection(options: KubernetesConnectionOptions): Promise<{ connection?: KubeConnection; problems: string[] }> {
  const problems: string[] = [];
  const env = options.env ?? process.env;
  const accountDir = options.serviceAccountDir ?? SERVICE_ACCOUNT_DIR;

  let apiServer: URL | undefined;
  const host = env['KUBERNETES_SERVICE_HOST'];
  const port = env['KUBERNETES_SERVICE_PORT'];
  const apiServerText = options.apiServer ?? (host && port ? `https://${hostPort(host, port)}` : undefined);
  if (apiServerText === undefined) {
    problems.push('apiServer: not given, and KUBERNETES_SERVICE_HOST / KUBERNETES_SERVICE_PORT are not set (not running in a cluster?)');
  } else {
    try {
      apiServer = new URL(apiServerText);
      if (apiServer.protocol !== 'https:' && apiServer.protocol !== 'http:') problems.push(`apiServer: must be an http:// or https:// URL, got ${JSON.stringify(apiServerText)}`);
      apiServer.pathname = apiServer.pathname.replace(/\/+$/, '');
      apiServer.search = '';
      apiServer.hash = '';
    } catch {
      problems.push(`apiServer: not a URL: ${JSON.stringify(apiServerText)}`);
    }
  }

  let token: () => Promise<string | undefined> = () => Promise.resolve(undefined);
  let tokenOrigin = 'none';
  if (options.token !== undefined) {
    if (options.token.trim() === '') problems.push('token: must not be empty');
    const value = options.token.trim();
    token = () => Promise.resolve(value);
    tokenOrigin = 'option';
  } else {
    const explicit = options.tokenFile !== undefined;
    const file = options.tokenFile ?? join(accountDir, 'token');
    const first = await readOptional(file);
    if (first.ok && first.text.trim() !== '') {
      // Read again for every request: projected service-account tokens are rotated by kubelet.
      token = async () => (await readFile(file, 'utf8')).trim();
      tokenOrigin = file;
    } else if (explicit) {
      problems.push(`tokenFile: ${first.ok ? `${file} is empty` : `cannot read ${file}: ${first.error}`}`);
    }
  }

  let ca: Buffer | undefined;
  let caOrigin = 'system';
  if (options.caFile !== undefined) {
    try {
      ca = await readFile(options.caFile);
      caOrigin = options.caFile;
    } catch (err) {
      problems.push(`caFile: cannot read ${options.caFile}: ${errorMessage(err)}`);
    }
  } else if (apiServer?.protocol === 'https:') {
    const file = join(accountDir, 'ca.crt');
    try {
      ca = await readFile(file);
      caOrigin = file;
    } catch {
      // No in-cluster CA: the system CAs apply (e.g. a managed API server with a public certificate).
    }
  }

  let namespace = options.namespace;
  if (namespace === undefined) {
    const file = join(accountDir, 'namespace');
    const read = await readOptional(file);
    if (read.ok) namespace = read.text.trim();
    else problems.push(`namespace: not given, and cannot read ${file}: ${read.error}`);
  }
  if (namespace !== undefined && !NAMESPACE_PATTERN.test(namespace)) problems.push(`namespace: must be a DNS-1123 label, got ${JSON.stringify(namespace)}`);

  if (problems.length > 0 || apiServer === undefined || namespace === undefined) return { problems };
  return { connection: { apiServer, namespace, ca, origin: { token: tokenOrigin, ca: caOrigin }, token }, problems };
}

async function readOptional(file: string): Promise<{ ok: true; text: string } | { ok: false; error: string }> {
  try {
    return { ok: true, text: await readFile(file, 'utf8') };
  } catch (err) {
    return { ok: false, error: errorMessage(err) };
  }
}

/** A non-2xx answer of the API server, with the Status it sent when there was one. */
export class KubeHttpError extends Error {
  override readonly name = 'KubeHttpError';

  constructor(
    readonly status: number,
    readonly statusBody: KubeStatus | undefined,
    method: string,
    path: string,
  ) {
    const detail = statusBody?.message ? `: ${statusBody.reason ? `${statusBody.reason}: ` : ''}${statusBody.message}` : '';
    super(`${method} ${path} answered HTTP ${status}${detail}`);
  }
}

/** Splits a text stream into lines (newline-delimited JSON), keeping a partial last line for the next chunk. */
export class LineSplitter {
  private rest = '';

  constructor(private readonly maxLineLength = 16 * 1024 * 1024) {}

  /** The complete lines in `chunk` (plus what was left over); throws when a line grows beyond the limit. */
  push(chunk: string): string[] {
    const parts = (this.rest + chunk).split('\n');
    this.rest = parts.pop() ?? '';
    if (this.rest.length > this.maxLineLength) throw new Error(`a watch line exceeds ${this.maxLineLength} characters`);
    return parts;
  }

  /** What is left after the stream ended (a last line without newline), then empty. */
  flush(): string {
    const rest = this.rest;
    this.rest = '';
    return rest;
  }
}

/**
 * Exponential backoff with jitter: `initialMs * 2^attempt`, capped at `maxMs`, then scaled by a
 * random factor in [0.5, 1) so that many routers do not reconnect in lockstep.
 */
export function backoffDelayMs(attempt: number, initialMs: number, maxMs: number, random: () => number = Math.random): number {
  const base = Math.min(maxMs, initialMs * 2 ** Math.min(attempt, 30));
  return Math.round(base * (0.5 + random() * 0.5));
}

export type WatchLineVerdict = 'continue' | 'stop';

/**
 * The two requests this lib makes, over plain node:http(s): LIST pods and WATCH pods. One
 * keep-alive agent per client; `close()` destroys its sockets. Every request is bound to
 * `signal`, so aborting it ends whatever is in flight.
 */
export class KubeApiClient {
  private readonly agent: http.Agent;

  constructor(
    private readonly connection: KubeConnection,
    private readonly signal: AbortSignal,
  ) {
    this.agent = connection.apiServer.protocol === 'https:' ? new https.Agent({ keepAlive: true, ...(connection.ca ? { ca: connection.ca } : {}) }) : new http.Agent({ keepAlive: true });
  }

  /** `<apiServer>/api/v1/namespaces/<ns>/pods?<query>` */
  podsUrl(query: Readonly<Record<string, string>>): URL {
    const url = new URL(this.connection.apiServer.href);
    url.pathname = `${url.pathname.replace(/\/+$/, '')}/api/v1/namespaces/${encodeURIComponent(this.connection.namespace)}/pods`;
    url.search = new URLSearchParams(query).toString();
    return url;
  }

  /** GET a pod list; throws {@link KubeHttpError} on a non-2xx answer. */
  async list(url: URL, timeoutMs: number): Promise<KubePodList> {
    const { res } = await this.open(url, timeoutMs);
    const body = await readBody(res, 256 * 1024 * 1024);
    if (res.statusCode !== 200) throw new KubeHttpError(res.statusCode ?? 0, parseStatus(body), 'GET', url.pathname);
    const parsed: unknown = JSON.parse(body);
    if (!isPodList(parsed)) throw new Error(`GET ${url.pathname} answered something other than a pod list`);
    return parsed;
  }

  /**
   * Opens a watch and feeds each line to `onLine` until the server ends the stream (resolves
   * with the number of lines), `onLine` says stop (resolves), or the connection fails or stays
   * silent for `idleTimeoutMs` (rejects). A non-200 answer rejects with {@link KubeHttpError}.
   */
  async watch(url: URL, idleTimeoutMs: number, onLine: (line: string) => WatchLineVerdict): Promise<{ lines: number; stoppedByHandler: boolean }> {
    const { req, res } = await this.open(url, idleTimeoutMs);
    if (res.statusCode !== 200) {
      const body = await readBody(res, 1024 * 1024);
      throw new KubeHttpError(res.statusCode ?? 0, parseStatus(body), 'GET', url.pathname);
    }
    return new Promise((resolve, reject) => {
      let settled = false;
      let lines = 0;
      const settle = (finish: () => void): void => {
        if (settled) return;
        settled = true;
        finish();
      };
      const splitter = new LineSplitter();
      const handle = (line: string): void => {
        if (settled || line.trim() === '') return;
        lines += 1;
        if (onLine(line) === 'stop') {
          settle(() => resolve({ lines, stoppedByHandler: true }));
          req.destroy();
        }
      };
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        try {
          for (const line of splitter.push(chunk)) handle(line);
        } catch (err) {
          settle(() => reject(err));
          req.destroy();
        }
      });
      res.on('end', () => {
        handle(splitter.flush());
        settle(() => resolve({ lines, stoppedByHandler: false }));
      });
      res.on('error', (err) => settle(() => reject(err)));
      res.on('close', () => settle(() => reject(new Error('watch connection closed before the end of the stream'))));
      req.on('error', (err) => settle(() => reject(err)));
    });
  }

  close(): void {
    this.agent.destroy();
  }

  private async open(url: URL, timeoutMs: number): Promise<{ req: http.ClientRequest; res: http.IncomingMessage }> {
    const token = await this.connection.token();
    const headers: http.OutgoingHttpHeaders = { accept: 'application/json', 'user-agent': 'kvr-discovery' };
    if (token !== undefined) headers['authorization'] = `Bearer ${token}`;
    const request = url.protocol === 'https:' ? https.request : http.request;
    return new Promise((resolve, reject) => {
      const req = request(url, { method: 'GET', headers, agent: this.agent, signal: this.signal, ...(this.connection.ca ? { ca: this.connection.ca } : {}) }, (res) => resolve({ req, res }));
      req.on('error', reject);
      // Socket inactivity, for the response head and for every later chunk: a half-open
      // connection (network partition) must not leave a watch hanging forever.
      req.setTimeout(timeoutMs, () => req.destroy(new Error(`no data from the API server for ${timeoutMs} ms`)));
      req.end();
    });
  }
}

function readBody(res: http.IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        res.destroy(new Error(`response body exceeds ${limit} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.on('error', reject);
    res.on('close', () => {
      if (!res.complete) reject(new Error('connection closed before the response body ended'));
    });
  });
}

function parseStatus(body: string): KubeStatus | undefined {
  try {
    const parsed: unknown = JSON.parse(body);
    return typeof parsed === 'object' && parsed !== null ? (parsed as KubeStatus) : undefined;
  } catch {
    return body.trim() ? { message: body.trim().slice(0, 300) } : undefined;
  }
}

function isPodList(value: unknown): value is KubePodList {
  if (typeof value !== 'object' || value === null) return false;
  const list = value as { items?: unknown; metadata?: unknown };
  return Array.isArray(list.items) && typeof list.metadata === 'object' && list.metadata !== null;
}
