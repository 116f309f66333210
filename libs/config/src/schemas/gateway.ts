import { IsIn, IsInt, IsNumber, IsString, Max, Min } from 'class-validator';
import type { CrossFieldRules } from '../load';
import { Doc, Section } from '../describe';
import { IsGrpcTarget, IsServiceUrl } from '../validators';
import { PodDiscoverySettings } from './collector';
import { TokenizerModelsConfig } from './tokenizer';

/**
 * Weights of the scorers (llm-d's precise-prefix-cache-routing profile by default). A weight of 0
 * leaves the scorer out. Totals are not normalised by the sum of weights, as in llm-d.
 */
export class ScorerWeights {
  @Doc('precise-prefix (the indexer): matched leading blocks / request blocks.')
  @IsNumber()
  @Min(0)
  precisePrefix = 3;

  @Doc('kv-cache-utilization (the load-scorer): 1 − vllm:kv_cache_usage_perc.')
  @IsNumber()
  @Min(0)
  kvCacheUtilization = 2;

  @Doc('queue-size (the load-scorer): min-max normalised vllm:num_requests_waiting, fewer is better.')
  @IsNumber()
  @Min(0)
  queueSize = 2;

  @Doc('no-hit-LRU (in the gateway, state shared in Redis): spreads requests that hit nowhere to the least recently used pods.')
  @IsNumber()
  @Min(0)
  noHitLru = 2;

  @Doc('approx-prefix (in the gateway, no events): prefix matched against where this gateway sent earlier requests. Off by default; the benchmark\'s `approx` mode uses it instead of precise-prefix.')
  @IsNumber()
  @Min(0)
  approxPrefix = 0;
}

export class GatewayConfig implements CrossFieldRules {
  @Doc('Host the OpenAI-compatible HTTP API listens on.')
  @IsString()
  host = '127.0.0.1';

  @Doc('Port of that API (0 picks one).')
  @IsInt()
  @Min(0)
  @Max(65535)
  port = 8080;

  @Doc('Pod discovery (the same block as the collector\'s and the load-scorer\'s).')
  @Section(() => PodDiscoverySettings)
  discovery = new PodDiscoverySettings();

  @Doc('Tokenizer service (llm-d UDS protocol): unix:///path or host:port.')
  @IsGrpcTarget()
  tokenizer = 'unix:///tmp/tokenizer/tokenizer-uds.socket';

  @Doc('Where prompts are rendered and tokenized. `service`: the tokenizer service at `tokenizer` (the sidecar). `in-process`: in the gateway itself, with the same library, rendering and caches (`models` says where the files are): one process hop fewer per request, but a prompt seen for the first time then takes its full encode on the gateway\'s event loop (10–16 ms for 7k tokens on the benchmark machine) while other requests wait.')
  @IsIn(['service', 'in-process'])
  tokenization: 'service' | 'in-process' = 'service';

  @Doc('`tokenization: in-process`: where the tokenizer files of each model come from (the tokenizer service\'s `models` block). Besides `preload`, the gateway loads the base models the fleet serves once discovery has found them, before it takes traffic.')
  @Section(() => TokenizerModelsConfig)
  models = new TokenizerModelsConfig();

  @Doc('Indexer gRPC address (precise-prefix Scorer and speculative inserts).')
  @IsGrpcTarget()
  indexer = '127.0.0.1:50051';

  @Doc('Load-scorer gRPC address (kv-cache-utilization and queue-size Scorers).')
  @IsGrpcTarget()
  loadScorer = '127.0.0.1:50052';

  @Doc('How the gateway reaches the block index. `indexer`: the indexer\'s precise-prefix Scorer and SpeculativeInsert over gRPC. `redis`: the gateway runs the same lookup script and speculative writes on the index\'s Redis itself (`redis`, `redisPrefix`), one process hop fewer per request, as llm-d\'s EPP reads its index; the indexer stays the only writer of events and still serves kvctl.')
  @IsIn(['indexer', 'redis'])
  indexAccess: 'indexer' | 'redis' = 'indexer';

  @Doc('Redis holding the shared no-hit-LRU state (the index\'s Redis), so that replicas decide alike. Empty: no Redis, the state stays in this process (one replica, e.g. with a standalone indexer).')
  @IsServiceUrl(['redis', 'rediss'], { optional: true })
  redis = 'redis://127.0.0.1:6379';

  @Doc('Key prefix in Redis (as the indexer\'s).')
  @IsString()
  redisPrefix = 'kvr';

  @Doc('Scorer weights.')
  @Section(() => ScorerWeights)
  weights = new ScorerWeights();

  @Doc('Tokens per block of the request keys the approx-prefix scorer computes (as vLLM --block-size).')
  @IsInt()
  @Min(1)
  blockSize = 64;

  @Doc('llm-d hashSeed of those keys (as the indexer\'s).')
  @IsString()
  hashSeed = '';

  @Doc('Deadline of the tokenizer call (ms); past it the request routes on load only.')
  @IsInt()
  @Min(1)
  tokenizerTimeoutMs = 200;

  @Doc('How long (ms) a load-scorer answer is reused for the same scorer and candidates, refreshed in the background after half of it: its values change once per scrape (50 ms by default). 0 asks on every request.')
  @IsInt()
  @Min(0)
  loadScoreMaxAgeMs = 50;

  @Doc('Deadline of each scorer call (ms); a scorer that misses it is left out of that decision.')
  @IsInt()
  @Min(1)
  scorerTimeoutMs = 50;

  @Doc('Lifetime of the speculative index entry written for the chosen pod (ms); 0 disables speculative inserts.')
  @IsInt()
  @Min(0)
  speculativeTtlMs = 2_000;

  @Doc('Largest request body (bytes); larger ones get 413. The default holds a 128k-token prompt with room to spare.')
  @IsInt()
  @Min(1024)
  maxBodyBytes = 16 * 1024 * 1024;

  @Doc('Other pods tried, best first, when connecting to the chosen pod fails before any response byte.')
  @IsInt()
  @Min(0)
  @Max(10)
  maxRetries = 2;

  @Doc('Deadline for a pod\'s response headers (ms); the body may stream for as long as it takes.')
  @IsInt()
  @Min(100)
  upstreamHeadersTimeoutMs = 300_000;

  @Doc('How often each pod\'s /v1/models is read (ms): the models and LoRA adapters it serves, and whether it answers.')
  @IsInt()
  @Min(100)
  modelsRefreshMs = 5_000;

  @Doc('Seconds a client is told to wait (Retry-After) when no pod can take its request.')
  @IsInt()
  @Min(0)
  retryAfterSeconds = 1;

  @Doc('Bearer token of POST /debug/route. Empty: the endpoint answers only when the gateway listens on loopback.', { secret: true })
  @IsString()
  debugToken = '';

  @Doc('Log level: fatal, error, warn, info, debug, trace or silent.')
  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  logLevel = 'info';

  crossFieldProblems(): string[] {
    const problems: string[] = [];
    problems.push(...this.discovery.problems());
    const w = this.weights;
    if (this.indexAccess === 'redis' && this.redis === '') problems.push('indexAccess: `redis` reads the index from Redis, so `redis` must name one');
    if (w.precisePrefix + w.kvCacheUtilization + w.queueSize + w.noHitLru + w.approxPrefix === 0) problems.push('weights: at least one scorer needs a weight above 0');
    return problems;
  }
}
