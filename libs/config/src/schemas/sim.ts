import { IsBoolean, IsIn, IsInt, IsNumber, IsString, Max, Min } from 'class-validator';
import type { CrossFieldRules } from '../load';
import { Doc, Section } from '../describe';
import { TokenizerModelsConfig } from './tokenizer';

/** KV events: ZMQ PUB stream and ROUTER replay, as vLLM's `--kv-events-config`. */
export class SimKvEventsConfig {
  @Doc('Publish KV events (vLLM enable_kv_cache_events).')
  @IsBoolean()
  enabled = true;

  @Doc('ZMQ PUB port (vLLM endpoint tcp://*:PORT); 0 picks one. With pods > 1, pod i uses PORT+i.')
  @IsInt()
  @Min(0)
  @Max(65535)
  port = 5557;

  @Doc('ZMQ ROUTER replay port (vLLM replay_endpoint); 0 picks one, -1 disables replay as the reference overlay does.')
  @IsInt()
  @Min(-1)
  @Max(65535)
  replayPort = 5558;

  @Doc('Topic frame; {pod} and {model} are replaced (llm-d convention kv@<ip>:<port>@<model>).')
  @IsString()
  topic = 'kv@{pod}@{model}';

  @Doc('Batches kept for replay (vLLM buffer_steps).')
  @IsInt()
  @Min(1)
  bufferSteps = 10_000;

  @Doc('PUB socket high-water mark in messages (vLLM hwm).')
  @IsInt()
  @Min(1)
  hwm = 100_000;

  @Doc('Event encoding: map (vLLM ≥ 0.26, PR #42892) or array (positional, earlier releases).')
  @IsIn(['map', 'array'])
  eventFormat = 'map';

  @Doc('Block hashes in events: int (last 8 digest bytes, vLLM default) or bytes (VLLM_KV_EVENTS_USE_INT_BLOCK_HASHES=0).')
  @IsIn(['int', 'bytes'])
  hashFormat = 'int';

  @Doc('Replay answer frames: with_topic (current vLLM, what llm-d-router expects) or without_topic (older vLLM).')
  @IsIn(['with_topic', 'without_topic'])
  replayFormat = 'with_topic';
}

/** The KV cache: blocks and hashing. */
export class SimCacheConfig {
  @Doc('Tokens per KV block (vLLM --block-size; must equal the router block size).')
  @IsInt()
  @Min(1)
  @Max(4096)
  blockSize = 64;

  @Doc('KV blocks on the pod (vLLM num_gpu_blocks). Default: 307,328 tokens / 64, one reference-guide pod.')
  @IsInt()
  @Min(1)
  numGpuBlocks = 4802;

  @Doc('Engine block hash: sha256_cbor (vLLM) or fnv64_cbor (equal to llm-d request keys; to prove the router does not rely on engine keys).')
  @IsIn(['sha256_cbor', 'fnv64_cbor'])
  hashAlgo = 'sha256_cbor';

  @Doc('PYTHONHASHSEED of the engine; empty: random per start, so pods disagree on engine hashes as real ones do.')
  @IsString()
  hashSeed = '';
}

/** Continuous batching. */
export class SimSchedulerConfig {
  @Doc('Requests running at once (vLLM --max-num-seqs).')
  @IsInt()
  @Min(1)
  maxNumSeqs = 256;

  @Doc('Tokens per scheduler step; longer prefills are chunked (vLLM --max-num-batched-tokens).')
  @IsInt()
  @Min(1)
  maxNumBatchedTokens = 8192;

  @Doc('Longest prompt + output (vLLM --max-model-len; Qwen3-32B: 40960).')
  @IsInt()
  @Min(2)
  maxModelLen = 40_960;

  @Doc('max_tokens of a chat request that sets none (vLLM generates until EOS; the simulator has no EOS).')
  @IsInt()
  @Min(1)
  defaultChatMaxTokens = 256;
}

/** Step time; defaults resemble Qwen3-32B TP2 on H100s (see libs/sim-engine/src/latency-model.ts). */
export class SimLatencyConfig {
  @Doc('Fixed cost of a step in ms (weights read once per forward pass).')
  @IsNumber()
  @Min(0)
  baseMs = 12;

  @Doc('Prefill throughput of uncached prompt tokens, tokens/s.')
  @IsNumber()
  @Min(1)
  prefillTokensPerSecond = 12_000;

  @Doc('Decode cost per running sequence in a step, ms.')
  @IsNumber()
  @Min(0)
  decodeMsPerSeq = 0.12;

  @Doc('KV read cost per 1000 context tokens in a step, ms.')
  @IsNumber()
  @Min(0)
  msPerKiloContextToken = 0.04;
}

export class SimConfig implements CrossFieldRules {
  @Doc('Model the pod serves (its tokenizer renders the prompts; the topic carries it).')
  @IsString()
  model = 'Qwen/Qwen3-32B';

  @Doc('LoRA adapters served besides the base model (vLLM --lora-modules names); a request naming one computes its blocks under that adapter.', { items: 'string' })
  @IsString({ each: true })
  loraAdapters: string[] = [];

  @Doc('Pods in this process (a fleet): each has its own ports, cache, scheduler and event stream.')
  @IsInt()
  @Min(1)
  @Max(256)
  pods = 1;

  @Doc('Address the HTTP and ZMQ sockets bind to.')
  @IsString()
  host = '127.0.0.1';

  @Doc('Host in pod ids and announced URLs; empty: host (127.0.0.1 when host is 0.0.0.0).')
  @IsString()
  advertiseHost = '';

  @Doc('HTTP port of the OpenAI API and /metrics; 0 picks one. With pods > 1, pod i uses PORT+i.')
  @IsInt()
  @Min(0)
  @Max(65535)
  port = 8000;

  @Doc('Pod id (topic and ready line); empty: <advertiseHost>:<http port>, the llm-d convention. Only with pods = 1.')
  @IsString()
  podId = '';

  @Doc('Divides every step time: 10 makes the pod ten times faster than the GPU it imitates (tests).')
  @IsNumber()
  @Min(0.001)
  timeScale = 1;

  @Doc('Bearer token for /debug/* endpoints; empty: open (the simulator is a test tool; bind to loopback).', { secret: true })
  @IsString()
  debugToken = '';

  @Doc('Largest accepted request body in bytes.')
  @IsInt()
  @Min(1024)
  maxBodyBytes = 32 * 1024 * 1024;

  @Doc('Log level: fatal, error, warn, info, debug, trace or silent.')
  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  logLevel = 'info';

  @Doc('KV events.')
  @Section(() => SimKvEventsConfig)
  kvEvents = new SimKvEventsConfig();

  @Doc('KV cache.')
  @Section(() => SimCacheConfig)
  cache = new SimCacheConfig();

  @Doc('Scheduler.')
  @Section(() => SimSchedulerConfig)
  scheduler = new SimSchedulerConfig();

  @Doc('Latency model.')
  @Section(() => SimLatencyConfig)
  latency = new SimLatencyConfig();

  @Doc('Tokenizer files of the served model.')
  @Section(() => TokenizerModelsConfig)
  models = new TokenizerModelsConfig();

  crossFieldProblems(): string[] {
    const problems: string[] = [];
    if (this.podId !== '' && this.pods > 1) problems.push('podId can only be set with pods = 1 (fleet pods are named <host>:<port>)');
    const lastPort = (base: number): number => base + this.pods - 1;
    if (this.port !== 0 && lastPort(this.port) > 65535) problems.push(`port ${this.port} + ${this.pods} pods runs past 65535`);
    if (this.kvEvents.port !== 0 && lastPort(this.kvEvents.port) > 65535) problems.push(`kvEvents.port ${this.kvEvents.port} + ${this.pods} pods runs past 65535`);
    if (this.kvEvents.replayPort > 0 && lastPort(this.kvEvents.replayPort) > 65535) problems.push(`kvEvents.replayPort ${this.kvEvents.replayPort} + ${this.pods} pods runs past 65535`);
    const fixed = [
      ['port', this.port],
      ['kvEvents.port', this.kvEvents.port],
      ['kvEvents.replayPort', this.kvEvents.replayPort],
    ].filter(([, p]) => (p as number) > 0) as [string, number][];
    for (let i = 0; i < fixed.length; i++) {
      for (let j = i + 1; j < fixed.length; j++) {
        const [a, pa] = fixed[i]!;
        const [b, pb] = fixed[j]!;
        if (Math.abs(pa - pb) < this.pods) problems.push(`${a} (${pa}) and ${b} (${pb}) overlap for ${this.pods} pods`);
      }
    }
    if (this.scheduler.maxNumBatchedTokens < this.cache.blockSize) problems.push('scheduler.maxNumBatchedTokens must be at least cache.blockSize');
    if (this.loraAdapters.includes(this.model)) problems.push(`loraAdapters must not contain the base model ${this.model}`);
    if (!this.kvEvents.topic.includes('{pod}')) problems.push('kvEvents.topic must contain {pod}: the collector takes the pod id from the topic');
    return problems;
  }
}
