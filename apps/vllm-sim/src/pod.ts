/**
 * One simulated vLLM pod: the OpenAI API and /metrics over HTTP, KV events over ZMQ, around a
 * `SimEngine`. Several pods may share a process (a fleet) and a tokenizer; nothing else is shared.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { randomUUID } from 'node:crypto';
import { createBlockKeyer, toUint64Decimal, type BlockKeyer } from '@kvr/block-keys';
import { WIRE_LAYOUTS, type KvEvent } from '@kvr/kv-events';
import { SimEngine, type EngineHashAlgo, type SimRequest } from '@kvr/sim-engine';
import { metricsHandler, type Logger } from '@kvr/telemetry';
import type { ModelTokenizer } from '@kvr/tokenization';
import type { SimConfig } from '@kvr/config';
import { KvEventPublisher } from '@kvr/zmq-events';
import { createPodMetrics, type PodMetrics } from './metrics';
import {
  ApiError,
  chatChunk,
  chatResponse,
  completionChunk,
  completionResponse,
  modelList,
  parseChatRequest,
  parseCompletionRequest,
  usageChunk,
  usageOf,
  type GenerationRequest,
  type ResponseIds,
} from './openai';

export interface PodEndpoints {
  readonly id: string;
  readonly http: string;
  readonly zmq: string | null;
  readonly replay: string | null;
}

export interface PodOptions {
  readonly config: SimConfig;
  /** Index in the fleet: fixed ports are offset by it. */
  readonly index: number;
  readonly tokenizer: ModelTokenizer;
  /** Generated tokens cycle through these (id, text) pairs. */
  readonly vocabulary: readonly { readonly id: number; readonly text: string }[];
  readonly logger: Logger;
}

const offsetPort = (port: number, index: number): number => (port === 0 ? 0 : port + index);

function advertisedHost(config: SimConfig): string {
  if (config.advertiseHost !== '') return config.advertiseHost;
  return config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
}

function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new ApiError(413, `The request body is larger than ${limit} bytes`, 'BadRequestError', null, 'too_large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export class SimPod {
  readonly engine: SimEngine;
  readonly metrics: PodMetrics;
  readonly servedModels: readonly string[];
  private server!: Server;
  private publisher: KvEventPublisher | null = null;
  private endpointsValue!: PodEndpoints;
  private readonly sockets = new Set<Socket>();
  private readonly keyer: BlockKeyer;
  private readonly requestKeys = new WeakMap<SimRequest, bigint[]>();
  private readonly inFlight = new Map<SimRequest, ServerResponse>();
  private readonly created = Math.floor(Date.now() / 1000);

  private constructor(private readonly options: PodOptions) {
    const { config } = options;
    this.servedModels = [config.model, ...config.loraAdapters];
    this.keyer = createBlockKeyer({ modelName: config.model, blockSize: config.cache.blockSize });
    const vocabulary = options.vocabulary;
    this.engine = new SimEngine(
      {
        blockSize: config.cache.blockSize,
        numGpuBlocks: config.cache.numGpuBlocks,
        hashAlgo: config.cache.hashAlgo as EngineHashAlgo,
        hashSeed: config.cache.hashSeed === '' ? null : config.cache.hashSeed,
        hashFormat: config.kvEvents.hashFormat as 'int' | 'bytes',
        scheduler: { maxNumSeqs: config.scheduler.maxNumSeqs, maxNumBatchedTokens: config.scheduler.maxNumBatchedTokens, maxModelLen: config.scheduler.maxModelLen },
        latency: { ...config.latency },
        timeScale: config.timeScale,
        nextTokenId: (request) => (vocabulary[request.outputTokens % vocabulary.length] as { id: number }).id,
        labelBlocks: (request, first, count) => this.labelBlocks(request, first, count),
      },
      {
        onEvents: (events) => this.publish(events),
        onStep: ({ plan }) => {
          for (const request of plan.preempted) {
            this.metrics.preemptions.inc({ model_name: config.model, engine: '0' });
            options.logger.debug({ request: request.id }, 'request preempted');
          }
        },
      },
    );
    this.metrics = createPodMetrics(this.engine, config.model, {
      block_size: String(config.cache.blockSize),
      num_gpu_blocks: String(config.cache.numGpuBlocks),
      cache_dtype: 'auto',
      enable_prefix_caching: 'True',
      prefix_caching_hash_algo: config.cache.hashAlgo,
      engine: '0',
    });
  }

  /** Binds HTTP, then ZMQ (the pod id, and so the topic, needs the actual HTTP port). */
  static async start(options: PodOptions): Promise<SimPod> {
    const pod = new SimPod(options);
    try {
      await pod.listen();
    } catch (err) {
      await pod.stop();
      throw err;
    }
    return pod;
  }

  get endpoints(): PodEndpoints {
    return this.endpointsValue;
  }

  private async listen(): Promise<void> {
    const { config, index } = this.options;
    this.server = createServer((req, res) => this.route(req, res));
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(offsetPort(config.port, index), config.host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    const host = advertisedHost(config);
    const httpPort = (this.server.address() as AddressInfo).port;
    const id = config.podId !== '' ? config.podId : `${host}:${httpPort}`;
    if (config.kvEvents.enabled) {
      this.publisher = await KvEventPublisher.bind({
        host: config.host,
        pubPort: offsetPort(config.kvEvents.port, index),
        replayPort: config.kvEvents.replayPort < 0 ? null : offsetPort(config.kvEvents.replayPort, index),
        topic: config.kvEvents.topic.replaceAll('{pod}', id).replaceAll('{model}', config.model),
        bufferSteps: config.kvEvents.bufferSteps,
        hwm: config.kvEvents.hwm,
        layout: config.kvEvents.eventFormat === 'array' ? WIRE_LAYOUTS.positional : WIRE_LAYOUTS.map,
        replayFormat: config.kvEvents.replayFormat as 'with_topic' | 'without_topic',
        logger: this.options.logger,
        onSent: (kind) => this.metrics.eventBatches.inc({ kind }),
        onReplayRequest: () => this.metrics.replayRequests.inc(),
      });
    }
    this.endpointsValue = {
      id,
      http: `http://${host}:${httpPort}`,
      zmq: this.publisher ? `tcp://${host}:${this.publisher.pubPort}` : null,
      replay: this.publisher?.replayPort != null ? `tcp://${host}:${this.publisher.replayPort}` : null,
    };
  }

  async stop(): Promise<void> {
    this.engine.close();
    for (const res of this.inFlight.values()) res.destroy();
    this.inFlight.clear();
    if (this.server) {
      const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
      for (const socket of this.sockets) socket.destroy();
      await closed;
    }
    await this.publisher?.close();
  }

  /**
   * A crash and restart of the engine, in place: in-flight requests are cut off, the cache is
   * empty, the event sequence restarts at 0 and the replay buffer is empty; nothing announces it.
   */
  restartEngine(): number {
    const dropped = this.engine.restart();
    for (const request of dropped) this.inFlight.get(request)?.destroy();
    this.inFlight.clear();
    this.publisher?.restart();
    return dropped.length;
  }

  private publish(events: readonly KvEvent[]): void {
    this.publisher?.publish({ ts: Date.now() / 1000, events, dataParallelRank: 0 });
  }

  /** Router request keys of a request's blocks [first, first+count), for the debug dump. */
  private labelBlocks(request: SimRequest, first: number, count: number): readonly bigint[] {
    let keys = this.requestKeys.get(request);
    if (!keys) this.requestKeys.set(request, (keys = []));
    if (keys.length > first) keys.length = first; // recomputed after preemption
    const bs = this.options.config.cache.blockSize;
    const keyer = request.loraName ? this.keyer.forModel(request.loraName) : this.keyer;
    const from = keys.length;
    const fresh = keyer.keysForTokens(request.tokens.slice(from * bs, (first + count) * bs), {
      ...(from > 0 ? { parent: keys[from - 1] as bigint } : {}),
      ...(from === 0 && request.cacheSalt ? { cacheSalt: request.cacheSalt } : {}),
    });
    keys.push(...fresh);
    return keys.slice(first, first + count);
  }

  private route(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const method = req.method ?? 'GET';
    const handle = async (): Promise<void> => {
      if (method === 'GET' && path === '/health') return void res.writeHead(200).end();
      if (method === 'GET' && path === '/ready') return sendJson(res, 200, { status: 'ready' });
      if (method === 'GET' && path === '/metrics') return metricsHandler(this.metrics.registry)(req, res);
      if (method === 'GET' && path === '/v1/models') return sendJson(res, 200, modelList(this.servedModels, this.options.config.model, this.options.config.scheduler.maxModelLen, this.created));
      if (method === 'POST' && path === '/v1/completions') return this.generate(req, res, 'completion');
      if (method === 'POST' && path === '/v1/chat/completions') return this.generate(req, res, 'chat');
      if (method === 'POST' && path === '/reset_prefix_cache') return this.resetPrefixCache(res);
      if (method === 'POST' && path === '/debug/lookup') return this.lookup(req, res);
      if (path.startsWith('/debug/')) return this.debug(req, res, method, path);
      throw new ApiError(404, `${method} ${path} not found`, 'NotFoundError', null, 'not_found');
    };
    handle().catch((err: unknown) => this.fail(res, err));
  }

  private fail(res: ServerResponse, err: unknown): void {
    const error = err instanceof ApiError ? err : new ApiError(500, err instanceof Error ? err.message : String(err), 'InternalServerError', null, 'internal');
    this.metrics.rejected.inc({ reason: error.reason });
    if (error.status >= 500) this.options.logger.error({ err }, 'request failed');
    else this.options.logger.debug({ status: error.status, message: error.message }, 'request rejected');
    if (res.headersSent) {
      res.destroy();
      return;
    }
    sendJson(res, error.status, error.body());
  }

  private resetPrefixCache(res: ServerResponse): void {
    if (this.engine.resetPrefixCache()) {
      this.options.logger.info('prefix cache reset');
      res.writeHead(200).end();
      return;
    }
    // vLLM logs "Failed to reset prefix cache because some blocks are not freed yet" and still
    // answers 200; a 409 tells the caller to retry, which is what benchmark tooling needs.
    throw new ApiError(409, 'Failed to reset prefix cache because some requests are still running', 'ConflictError', null, 'reset_busy');
  }

  private authorizeDebug(req: IncomingMessage): void {
    const token = this.options.config.debugToken;
    if (token !== '' && req.headers['authorization'] !== `Bearer ${token}`) {
      throw new ApiError(401, 'debug endpoints need "Authorization: Bearer <debugToken>"', 'AuthenticationError', null, 'unauthorized');
    }
  }

  /**
   * `POST /debug/lookup {"prompt_token_ids": [...], "model"?, "cache_salt"?}` → how many leading
   * blocks of that prompt this pod's cache holds right now: the truth an oracle router reads.
   */
  private async lookup(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.authorizeDebug(req);
    let body: { prompt_token_ids?: unknown; model?: unknown; cache_salt?: unknown };
    try {
      body = JSON.parse(await readBody(req, this.options.config.maxBodyBytes)) as typeof body;
    } catch (err) {
      throw new ApiError(400, `Invalid JSON body: ${err instanceof Error ? err.message : String(err)}`, 'BadRequestError', null, 'invalid_json');
    }
    const ids = body.prompt_token_ids;
    if (!Array.isArray(ids) || !ids.every((t) => Number.isInteger(t) && (t as number) >= 0)) throw new ApiError(400, 'prompt_token_ids must be an array of token ids', 'BadRequestError', 'prompt_token_ids', 'invalid_value');
    const { loraName } = this.loraOf(typeof body.model === 'string' ? body.model : this.options.config.model);
    const cachedBlocks = this.engine.cachedPrefixBlocks(ids as number[], { loraName, cacheSalt: typeof body.cache_salt === 'string' ? body.cache_salt : null });
    sendJson(res, 200, { pod: this.endpointsValue.id, cachedBlocks, blockSize: this.engine.stats().blockSize, running: this.engine.stats().running, waiting: this.engine.stats().waiting });
  }

  private debug(req: IncomingMessage, res: ServerResponse, method: string, path: string): void {
    this.authorizeDebug(req);
    if (method === 'GET' && path === '/debug/blocks') {
      const withTokens = new URL(req.url ?? '/', 'http://x').searchParams.get('tokens') === '1';
      const blocks = this.engine.residentBlocks().map((b) => ({
        hash: toUint64Decimal(b.hash),
        parentHash: b.parentHash === null ? null : toUint64Decimal(b.parentHash),
        requestKey: b.requestKey === null ? null : toUint64Decimal(b.requestKey),
        loraName: b.loraName,
        refCount: b.refCount,
        ...(withTokens ? { tokenIds: b.tokenIds } : {}),
      }));
      const stats = this.engine.stats();
      return sendJson(res, 200, {
        pod: this.endpointsValue.id,
        model: this.options.config.model,
        blockSize: stats.blockSize,
        hashAlgo: this.options.config.cache.hashAlgo,
        nextSeq: this.publisher ? this.publisher.nextSeq.toString() : null,
        stats,
        blocks,
      });
    }
    if (method === 'POST' && path === '/debug/restart') {
      const dropped = this.restartEngine();
      this.options.logger.warn({ dropped }, 'engine restarted on request (simulated crash)');
      return sendJson(res, 200, { restarted: true, droppedRequests: dropped });
    }
    throw new ApiError(404, `${method} ${path} not found`, 'NotFoundError', null, 'not_found');
  }

  /** vLLM's LoRARequest for a request naming an adapter: its name, and an id from 1 in config order. */
  private loraOf(model: string): { loraName: string | null; loraId: number | null } {
    const index = this.options.config.loraAdapters.indexOf(model);
    return index < 0 ? { loraName: null, loraId: null } : { loraName: model, loraId: index + 1 };
  }

  private tokenize(request: GenerationRequest): number[] {
    try {
      if (request.kind === 'chat') return this.options.tokenizer.renderChat(request.render).tokenIds;
      if ('tokenIds' in request.prompt) return [...request.prompt.tokenIds];
      return this.options.tokenizer.renderCompletion(request.prompt.text, { addSpecialTokens: request.addSpecialTokens });
    } catch (err) {
      throw new ApiError(400, err instanceof Error ? err.message : String(err), 'BadRequestError', null, 'render_failed');
    }
  }

  private async generate(req: IncomingMessage, res: ServerResponse, kind: 'completion' | 'chat'): Promise<void> {
    const arrival = performance.now();
    const raw = await readBody(req, this.options.config.maxBodyBytes);
    const request = kind === 'chat' ? parseChatRequest(raw, this.servedModels) : parseCompletionRequest(raw, this.servedModels);
    const promptTokenIds = this.tokenize(request);
    const maxTokens = request.maxTokens ?? this.options.config.scheduler.defaultChatMaxTokens;
    const ids: ResponseIds = { id: `${kind === 'chat' ? 'chatcmpl' : 'cmpl'}-${randomUUID().replaceAll('-', '')}`, created: Math.floor(Date.now() / 1000), model: request.model };
    const vocabulary = this.options.vocabulary;
    const labels = { model_name: this.options.config.model, engine: '0' };
    let text = '';
    let lastTokenAt = arrival;
    let simRequest: SimRequest;
    const write = (chunk: unknown): void => void res.write(`data: ${JSON.stringify(chunk)}\n\n`);
    try {
      simRequest = this.engine.submit(
        { id: ids.id, promptTokenIds, maxTokens, cacheSalt: request.cacheSalt, ...this.loraOf(request.model) },
        {
          onToken: (_tokenId, index, finished) => {
            const now = performance.now();
            if (index === 0) this.metrics.ttft.observe(labels, (now - arrival) / 1000);
            else this.metrics.itl.observe(labels, (now - lastTokenAt) / 1000);
            lastTokenAt = now;
            const piece = (vocabulary[index % vocabulary.length] as { text: string }).text;
            text += piece;
            if (request.stream) {
              if (kind === 'chat') {
                if (index === 0) write(chatChunk(ids, { role: 'assistant', content: '' }, null));
                write(chatChunk(ids, { content: piece }, finished ? 'length' : null));
              } else {
                write(completionChunk(ids, piece, finished ? 'length' : null));
              }
            }
            if (finished) this.finish(res, request, ids, text, simRequest, arrival);
          },
        },
      );
    } catch (err) {
      if (err instanceof RangeError) throw new ApiError(400, err.message, 'BadRequestError', null, 'too_long');
      throw err;
    }
    this.inFlight.set(simRequest, res);
    this.metrics.promptTokens.inc(labels, promptTokenIds.length);
    res.setHeader('x-kvr-pod', this.endpointsValue.id);
    if (request.stream) {
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
    }
    res.on('close', () => {
      if (!res.writableFinished) {
        this.engine.abort(simRequest);
        this.inFlight.delete(simRequest);
      }
    });
  }

  private finish(res: ServerResponse, request: GenerationRequest, ids: ResponseIds, text: string, simRequest: SimRequest, arrival: number): void {
    const labels = { model_name: this.options.config.model, engine: '0' };
    this.metrics.e2e.observe(labels, (performance.now() - arrival) / 1000);
    this.metrics.generationTokens.inc(labels, simRequest.outputTokens);
    this.metrics.requestSuccess.inc({ ...labels, finished_reason: 'length' });
    this.inFlight.delete(simRequest);
    const usage = usageOf(simRequest.promptLength, simRequest.outputTokens, simRequest.cachedPromptTokens);
    if (request.stream) {
      if (request.includeUsage) res.write(`data: ${JSON.stringify(usageChunk(ids, request.kind, usage))}\n\n`);
      res.end('data: [DONE]\n\n');
      return;
    }
    const prefix = request.kind === 'completion' && request.echo && 'text' in request.prompt ? request.prompt.text : '';
    sendJson(res, 200, request.kind === 'chat' ? chatResponse(ids, text, usage) : completionResponse(ids, prefix + text, usage));
  }
}
