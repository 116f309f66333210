import { IsBoolean, IsIn, IsInt, IsObject, IsOptional, IsString, Max, Min } from 'class-validator';
import type { CrossFieldRules } from '../load';
import { Doc, Section } from '../describe';
import { isGrpcTarget, isHostPort } from '../validators';

/** Where the tokenizer files of each model come from. */
export class TokenizerModelsConfig {
  @Doc('Model name → local directory with tokenizer.json and tokenizer_config.json (checked first). JSON object in KVR_MODELS__DIRS.')
  @IsObject()
  dirs: Record<string, string> = {};

  @Doc('Hugging Face home; models are also looked up in <hfHome>/hub/models--Org--Name/snapshots/<rev>/. Empty: $HF_HOME or ~/.cache/huggingface.')
  @IsString()
  hfHome = '';

  @Doc('Serve the Qwen3 family (Qwen/Qwen3-32B and the models sharing its tokenizer) from the files installed with npm ci.')
  @IsBoolean()
  builtin = true;

  @Doc('Download missing tokenizer files from a Hugging Face-compatible hub into the cache layout (off: nothing is fetched at run time).')
  @IsBoolean()
  download = false;

  @Doc('Hub base URL for downloads. Empty: $HF_ENDPOINT or https://huggingface.co.')
  @IsString()
  hubEndpoint = '';

  @Doc('Hub token for gated models. Empty: $HF_TOKEN.', { secret: true })
  @IsString()
  hubToken = '';

  @Doc('Revision (branch, tag or commit) to download.')
  @IsString()
  revision = 'main';

  @Doc('Models to load at start (fail fast if one is missing) instead of on first use.', { items: 'string' })
  @IsString({ each: true })
  preload: string[] = [];

  @Doc('Encode cache budget in tokens, shared by the models with the same tokenizer files (ids of text chunks, looked up on long shared prefixes); 0 turns it off.')
  @IsInt()
  @Min(0)
  cacheTokens = 2_000_000;

  @Doc('When a chunk enters the encode cache. second-sight: the second time it is seen, so text seen once (a unique question) never fills the cache or the heap; first-sight: at once, which saves the second encode of a prefix that recurs exactly twice (e.g. a benchmark cycling through a fixed prompt list).')
  @IsIn(['second-sight', 'first-sight'])
  cacheAdmission = 'second-sight';
}

/** Front another tokenizer instead of tokenizing in process. */
export class TokenizerUpstreamConfig {
  @Doc('none: tokenize here; sidecar: forward to a reference tokenizer service (gRPC); vllm: call a vLLM /v1/*/render endpoint.')
  @IsIn(['none', 'sidecar', 'vllm'])
  kind = 'none';

  @Doc('sidecar: unix:///path.sock or host:port; vllm: http(s)://host:port of vLLM or `vllm launch render`.')
  @IsString()
  target = '';

  @Doc('Per-call deadline towards the upstream, in milliseconds.')
  @IsInt()
  @Min(1)
  timeoutMs = 5_000;

  @Doc('Responses kept in memory per distinct request when fronting an upstream (0 disables).')
  @IsInt()
  @Min(0)
  responseCacheEntries = 4_096;
}

export class TokenizerConfig implements CrossFieldRules {
  @Doc('Unix socket the gRPC service listens on (the reference sidecar path by default); empty disables it.')
  @IsString()
  socket = '/tmp/tokenizer/tokenizer-uds.socket';

  @Doc('Optional TCP listener for gRPC as host:port (port 0 picks one); empty disables it.')
  @IsString()
  tcp = '';

  @Doc('Host of the HTTP probe server (/healthz, /health, /ready, /metrics).')
  @IsString()
  probeHost = '127.0.0.1';

  @Doc('Port of the HTTP probe server (0 picks one).')
  @IsInt()
  @Min(0)
  @Max(65535)
  probePort = 8082;

  @Doc('Log level: fatal, error, warn, info, debug, trace or silent.')
  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  logLevel = 'info';

  @Doc('Model sources.')
  @Section(() => TokenizerModelsConfig)
  models = new TokenizerModelsConfig();

  @Doc('Upstream mode.')
  @Section(() => TokenizerUpstreamConfig)
  upstream = new TokenizerUpstreamConfig();

  @Doc('Maximum gRPC message size in bytes (the reference server allows 100 MiB).')
  @IsOptional()
  @IsInt()
  @Min(1024)
  maxMessageBytes = 100 * 1024 * 1024;

  crossFieldProblems(): string[] {
    const problems: string[] = [];
    if (this.socket === '' && this.tcp === '') problems.push('socket and tcp are both empty: the service would not listen anywhere');
    if (this.tcp !== '' && !isHostPort(this.tcp)) problems.push(`tcp: "${this.tcp}" is not host:port`);
    if (this.upstream.kind !== 'none' && this.upstream.target === '') problems.push(`upstream.target is required when upstream.kind is ${this.upstream.kind}`);
    if (this.upstream.kind === 'vllm' && !/^https?:\/\//.test(this.upstream.target)) problems.push('upstream.target must be an http(s):// URL when upstream.kind is vllm');
    if (this.upstream.kind === 'sidecar' && !isGrpcTarget(this.upstream.target)) {
      problems.push('upstream.target must be unix:///path or host:port when upstream.kind is sidecar');
    }
    return problems;
  }
}
