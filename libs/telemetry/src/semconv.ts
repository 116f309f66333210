/**
 * Every span, attribute and metric name the product emits, in one place. Code never spells one
 * of these inline: renaming a signal is a change to this file, seen in review, and dashboards
 * (deploy/grafana) can be checked against it.
 *
 * Conventions: spans are `kvr.<component>.<operation>`; attributes are `kvr.<noun>` in
 * snake_case after the namespace; metrics are Prometheus names `kvr_<component>_<what>_<unit>`
 * with `_total` on counters. Metric labels stay low-cardinality: pod, model, partition, reason,
 * never request ids or block hashes.
 */

// ---- Spans -------------------------------------------------------------------------------

/** Gateway: one routing decision for one request (root of the decision trace). */
export const SPAN_ROUTE_REQUEST = 'kvr.gateway.route';
/** Gateway: tokenization call for a request. */
export const SPAN_TOKENIZE = 'kvr.gateway.tokenize';
/** Gateway: one scorer call (remote or local); attribute `kvr.scorer` names it. */
export const SPAN_SCORE = 'kvr.gateway.score';
/** Gateway: proxying the request to the chosen pod. */
export const SPAN_FORWARD = 'kvr.gateway.forward';
/** Indexer: longest-prefix lookup over candidate pods. */
export const SPAN_INDEX_LOOKUP = 'kvr.index.lookup';
/** Indexer: applying one event batch of one pod. */
export const SPAN_INDEX_APPLY = 'kvr.index.apply';
/** Collector: publishing one pod batch to JetStream. */
export const SPAN_COLLECTOR_PUBLISH = 'kvr.collector.publish';
/** Collector: a replay request to a pod's ROUTER socket. */
export const SPAN_COLLECTOR_REPLAY = 'kvr.collector.replay';

// ---- Attributes --------------------------------------------------------------------------

/** Pod identity as in the event topic, `<ip>:<port>`. */
export const ATTR_POD_ID = 'kvr.pod.id';
/** Model name as requested / as in the event topic. */
export const ATTR_MODEL = 'kvr.model';
/** Number of candidate pods considered for a request. */
export const ATTR_CANDIDATE_COUNT = 'kvr.route.candidates';
/** The pod the router chose. */
export const ATTR_CHOSEN_POD = 'kvr.route.chosen_pod';
/** Why routing fell back (e.g. `tokenizer_unavailable`, `index_timeout`); absent when it did not. */
export const ATTR_FALLBACK_REASON = 'kvr.route.fallback_reason';
/** Per-pod weighted scores as a JSON object `{pod: {scorer: score, total}}`. */
export const ATTR_POD_SCORES = 'kvr.route.pod_scores';
/** Number of full blocks the chosen pod is predicted to hold for this request. */
export const ATTR_PREDICTED_CACHED_BLOCKS = 'kvr.route.predicted_cached_blocks';
/** Number of request blocks (full blocks of the prompt). */
export const ATTR_REQUEST_BLOCKS = 'kvr.request.blocks';
/** Number of prompt tokens. */
export const ATTR_PROMPT_TOKENS = 'kvr.request.prompt_tokens';
/** Scorer name (`precise-prefix`, `kv-cache-utilization`, `queue-size`, `no-hit-lru`). */
export const ATTR_SCORER = 'kvr.scorer';
/** Number of blocks in an applied or looked-up batch. */
export const ATTR_BLOCK_COUNT = 'kvr.block.count';
/** Engine sequence number of a KV event batch. */
export const ATTR_EVENT_SEQ = 'kvr.event.seq';
/** JetStream partition index. */
export const ATTR_PARTITION = 'kvr.partition';

// ---- Metrics -----------------------------------------------------------------------------

/** Counter, labels `pod`, `kind` (`stored`, `removed`, `cleared`, `unknown`): KV events decoded. */
export const METRIC_EVENTS_TOTAL = 'kvr_collector_events_total';
/** Counter, labels `pod`, `reason`: payloads that could not be decoded, sent to the dead-letter subject. */
export const METRIC_DEAD_LETTERS_TOTAL = 'kvr_dead_letters_total';
/** Counter, labels `pod`: sequence gaps seen on a pod's PUB stream. */
export const METRIC_SEQUENCE_GAPS_TOTAL = 'kvr_collector_sequence_gaps_total';
/** Counter, labels `pod`, `outcome` (`filled`, `unrecoverable`): replay requests. */
export const METRIC_REPLAYS_TOTAL = 'kvr_collector_replays_total';
/** Counter, labels `pod`, `reason` (`engine_restart`, `unrecoverable_gap`, `removed`): pod resets published. */
export const METRIC_POD_RESETS_TOTAL = 'kvr_pod_resets_total';
/** Counter, labels `partition`, `outcome` (`applied`, `duplicate`, `failed`): batches the indexer handled. */
export const METRIC_INDEX_BATCHES_TOTAL = 'kvr_indexer_batches_total';
/** Histogram, seconds: index lookup latency. */
export const METRIC_INDEX_LOOKUP_SECONDS = 'kvr_index_lookup_seconds';
/** Counter, labels `model`, `reason`: routing decisions (`precise`, `fallback_*`). */
export const METRIC_ROUTE_DECISIONS_TOTAL = 'kvr_gateway_route_decisions_total';
/** Counter, labels `scorer`, `reason`: scorer calls that failed or timed out and were skipped. */
export const METRIC_SCORER_FALLBACKS_TOTAL = 'kvr_gateway_scorer_fallbacks_total';
/** Histogram, seconds: time the gateway adds before forwarding (tokenize + score + pick). */
export const METRIC_ROUTING_OVERHEAD_SECONDS = 'kvr_gateway_routing_overhead_seconds';
/** Counter, labels `method`, `outcome` (`ok`, `error`): tokenizer service calls. */
export const METRIC_TOKENIZER_REQUESTS_TOTAL = 'kvr_tokenizer_requests_total';
/** Histogram, seconds, label `method`: tokenizer service call latency (server side). */
export const METRIC_TOKENIZER_REQUEST_SECONDS = 'kvr_tokenizer_request_seconds';
/** Counter, label `method`: token ids returned by the tokenizer service. */
export const METRIC_TOKENIZER_TOKENS_TOTAL = 'kvr_tokenizer_tokens_total';
/** Counter, labels `cache`, `outcome` (`hit`, `miss`): tokenizer caches (upstream response cache, prefix caches). */
export const METRIC_TOKENIZER_CACHE_TOTAL = 'kvr_tokenizer_cache_total';
/** Counter, labels `upstream`, `reason`: calls to an upstream tokenizer that failed. */
export const METRIC_TOKENIZER_UPSTREAM_FAILURES_TOTAL = 'kvr_tokenizer_upstream_failures_total';

// ---- vLLM metric names -------------------------------------------------------------------
// What a vLLM pod exposes on /metrics (vllm/v1/metrics/loggers.py, v0.10–v0.2x; upstream-spec
// §4.9, §7.1). The simulator emits them; the load scorer scrapes them. Labels: `model_name`
// (served model) and `engine` ("0"), as vLLM sets them.

/** Gauge: requests being computed (prefill or decode). */
export const VLLM_NUM_REQUESTS_RUNNING = 'vllm:num_requests_running';
/** Gauge: requests queued, not yet admitted. */
export const VLLM_NUM_REQUESTS_WAITING = 'vllm:num_requests_waiting';
/** Gauge, 0–1: share of KV blocks in use (replaced `vllm:gpu_cache_usage_perc`). */
export const VLLM_KV_CACHE_USAGE_PERC = 'vllm:kv_cache_usage_perc';
/** Counter: prompt tokens looked up in the prefix cache. */
export const VLLM_PREFIX_CACHE_QUERIES_TOTAL = 'vllm:prefix_cache_queries_total';
/** Counter: prompt tokens found in the prefix cache. */
export const VLLM_PREFIX_CACHE_HITS_TOTAL = 'vllm:prefix_cache_hits_total';
/** Gauge = 1 with the cache config as labels (`block_size`, `num_gpu_blocks`, …). */
export const VLLM_CACHE_CONFIG_INFO = 'vllm:cache_config_info';
/** Histogram, seconds: arrival to first generated token. */
export const VLLM_TIME_TO_FIRST_TOKEN_SECONDS = 'vllm:time_to_first_token_seconds';
/** Histogram, seconds: time between consecutive generated tokens. */
export const VLLM_INTER_TOKEN_LATENCY_SECONDS = 'vllm:inter_token_latency_seconds';
/** Histogram, seconds: arrival to last token. */
export const VLLM_E2E_REQUEST_LATENCY_SECONDS = 'vllm:e2e_request_latency_seconds';
/** Counter: prompt tokens processed (per request, cached or not). */
export const VLLM_PROMPT_TOKENS_TOTAL = 'vllm:prompt_tokens_total';
/** Counter: tokens generated. */
export const VLLM_GENERATION_TOKENS_TOTAL = 'vllm:generation_tokens_total';
/** Counter, label `finished_reason`: requests finished. */
export const VLLM_REQUEST_SUCCESS_TOTAL = 'vllm:request_success_total';
/** Counter: requests preempted (recomputed later). */
export const VLLM_NUM_PREEMPTIONS_TOTAL = 'vllm:num_preemptions_total';

// ---- Simulator metrics (beyond vLLM's) ----------------------------------------------------

/** Counter, label `kind` (`live`, `replayed`): KV event batches the simulated pod sent. */
export const METRIC_SIM_EVENT_BATCHES_TOTAL = 'kvr_sim_event_batches_total';
/** Counter: replay requests the simulated pod answered. */
export const METRIC_SIM_REPLAY_REQUESTS_TOTAL = 'kvr_sim_replay_requests_total';
/** Counter, label `reason`: HTTP requests rejected (OpenAI-style 4xx). */
export const METRIC_SIM_REJECTED_REQUESTS_TOTAL = 'kvr_sim_rejected_requests_total';

// ---- Collector (beyond the counters above) ----------------------------------------------

/** Counter, label `pod`: batches received from a pod's PUB socket (live) or replay answers (`source`). */
export const METRIC_COLLECTOR_RECEIVED_TOTAL = 'kvr_collector_batches_received_total';
/** Counter, labels `pod`, `kind` (`batch`, `reset`, `added`, `removed`): messages JetStream acknowledged as new. */
export const METRIC_COLLECTOR_PUBLISHED_TOTAL = 'kvr_collector_messages_published_total';
/** Counter, labels `pod`, `where` (`live`: sequence already published; `stream`: JetStream dropped the msg id). */
export const METRIC_COLLECTOR_DUPLICATES_TOTAL = 'kvr_collector_duplicates_total';
/** Counter, labels `pod`, `reason` (`buffer_full`, `queue_full`): batches dropped before publishing (then repaired as a gap). */
export const METRIC_COLLECTOR_DROPPED_TOTAL = 'kvr_collector_dropped_total';
/** Histogram, seconds: offer to JetStream acknowledgement. */
export const METRIC_COLLECTOR_PUBLISH_SECONDS = 'kvr_collector_publish_seconds';
/** Gauge, label `pod`: seconds from the engine's batch timestamp to its acknowledgement, last batch. */
export const METRIC_COLLECTOR_POD_LAG_SECONDS = 'kvr_collector_pod_lag_seconds';
/** Gauge: bytes held for JetStream (unacknowledged). */
export const METRIC_COLLECTOR_BUFFER_BYTES = 'kvr_collector_buffer_bytes';
/** Counter: publish rounds that failed and were retried. */
export const METRIC_COLLECTOR_PUBLISH_RETRIES_TOTAL = 'kvr_collector_publish_retries_total';
/** Counter: retries after which a later message may precede an earlier one on a subject. */
export const METRIC_COLLECTOR_POSSIBLE_REORDERS_TOTAL = 'kvr_collector_possible_reorders_total';
/** Gauge: pods the collector subscribes to. */
export const METRIC_COLLECTOR_PODS = 'kvr_collector_pods';

// ---- Indexer (beyond the series above) --------------------------------------------------

/** Counter, labels `partition`, `kind` (`batch`, `reset`, `removed`, `added`), `outcome` (`applied`, `duplicate`, `early`, `fenced`, `invalid`): messages handled. */
export const METRIC_INDEXER_MESSAGES_TOTAL = 'kvr_indexer_messages_total';
/** Counter: request keys a pod gained (admissions) / lost (evictions) an entry for. */
export const METRIC_INDEXER_ADMISSIONS_TOTAL = 'kvr_indexer_admissions_total';
export const METRIC_INDEXER_EVICTIONS_TOTAL = 'kvr_indexer_evictions_total';
/** Counter: BlockStored events skipped because their parent engine key was unknown. */
export const METRIC_INDEXER_UNKNOWN_PARENTS_TOTAL = 'kvr_indexer_unknown_parents_total';
/** Counter: BlockStored events whose block size differs from the configured one (an alarm). */
export const METRIC_INDEXER_BLOCK_SIZE_MISMATCHES_TOTAL = 'kvr_indexer_block_size_mismatches_total';
/** Counter: early batches whose gap was accepted after the redelivery limit (pod cleared). */
export const METRIC_INDEXER_ACCEPTED_GAPS_TOTAL = 'kvr_indexer_accepted_gaps_total';
/** Histogram, seconds: applying one message to the index. */
export const METRIC_INDEXER_APPLY_SECONDS = 'kvr_indexer_apply_seconds';
/** Counter, label `outcome` (`current`: the planning read was skipped; `stale`: refused by the position check, read again): writes planned from what the indexer wrote last. */
export const METRIC_INDEXER_REMEMBERED_WRITES_TOTAL = 'kvr_indexer_remembered_writes_total';
/**
 * Histogram, seconds: freshness — how old a batch is when the index holds it (now − the engine's
 * batch timestamp, so it spans pod → collector → JetStream → indexer → Redis; pod and indexer
 * clocks must agree, NTP keeps them within a millisecond or so). Replays after a rebuild land in
 * the top buckets.
 */
export const METRIC_INDEXER_EVENT_AGE_SECONDS = 'kvr_indexer_event_age_seconds';
/** Gauge, label `partition`: messages in the partition not yet acknowledged (stream sequence minus ack floor). */
export const METRIC_INDEXER_CONSUMER_LAG = 'kvr_indexer_consumer_lag';
/** Gauge: partitions whose lease this replica holds. */
export const METRIC_INDEXER_LEASES_HELD = 'kvr_indexer_leases_held';
/** Counter, label `outcome` (`ok`, `error`): Score calls served. */
export const METRIC_INDEXER_SCORE_TOTAL = 'kvr_indexer_score_total';
/** Counter, labels `partition`, `outcome` (`taken`, `unchanged`, `index_lost`, `pods_missing`, `failed`): periodic index snapshots. */
export const METRIC_INDEXER_SNAPSHOTS_TOTAL = 'kvr_indexer_snapshots_total';
/** Histogram, seconds: taking and storing one partition's snapshot. */
export const METRIC_INDEXER_SNAPSHOT_SECONDS = 'kvr_indexer_snapshot_seconds';
/** Gauge, label `partition`: stream sequence the partition's newest snapshot covers. */
export const METRIC_INDEXER_SNAPSHOT_STREAM_SEQ = 'kvr_indexer_snapshot_stream_seq';
/** Counter, labels `trigger` (`index_lost`, `operator`), `source` (`snapshot`, `stream`): partition rebuilds. */
export const METRIC_INDEXER_REBUILDS_TOTAL = 'kvr_indexer_rebuilds_total';
/** Counter: rebuilds that could not cover trimmed messages (no snapshot reached that far back). */
export const METRIC_INDEXER_REBUILD_LOST_MESSAGES_TOTAL = 'kvr_indexer_rebuild_lost_messages_total';

// ---- Load scorer (apps/load-scorer) -------------------------------------------------------

/** Counter, label `outcome` (`ok`, `error`, `timeout`): scrapes of the pods' vLLM /metrics. */
export const METRIC_LOAD_SCORER_SCRAPES_TOTAL = 'kvr_load_scorer_scrapes_total';
/** Histogram, seconds: one scrape, request to parsed values, whatever its outcome. */
export const METRIC_LOAD_SCORER_SCRAPE_SECONDS = 'kvr_load_scorer_scrape_seconds';
/** Gauge, label `state` (`known`: discovered, `fresh`: values younger than staleAfterMs): pods. */
export const METRIC_LOAD_SCORER_PODS = 'kvr_load_scorer_pods';
/** Counter, labels `scorer` (`kv-cache-utilization`, `queue-size`, `unknown`), `outcome` (`ok`, `invalid`, `error`): Score calls served. */
export const METRIC_LOAD_SCORER_SCORE_TOTAL = 'kvr_load_scorer_score_total';
/** Counter, label `scorer`: candidate pods left out of a Score answer for want of fresh values. */
export const METRIC_LOAD_SCORER_OMITTED_PODS_TOTAL = 'kvr_load_scorer_omitted_pods_total';

// ---- Gateway (beyond the series and attributes above) ------------------------------------

/** Attribute: the request id the gateway gave the request (also the `x-request-id` it forwards). */
export const ATTR_REQUEST_ID = 'kvr.request.id';
/** Attribute: candidate pods of a decision, comma-separated, best first. */
export const ATTR_CANDIDATES = 'kvr.route.candidate_pods';
/** Attribute: true when no candidate held the request's first block. */
export const ATTR_COLD = 'kvr.route.cold';
/** Attribute: every scorer outcome as JSON `[{scorer, weight, status, reason}]`. */
export const ATTR_SCORERS = 'kvr.route.scorers';
/** Attribute: forwarding attempt number (1 = the chosen pod). */
export const ATTR_ATTEMPT = 'kvr.forward.attempt';
/** Attribute: HTTP status the pod answered. */
export const ATTR_UPSTREAM_STATUS = 'kvr.forward.status';
/** Counter, labels `model`, `reason`: requests the gateway answered itself with an error (`bad_request`, `unknown_model`, `too_large`, `no_pod`, `upstream_failed`). */
export const METRIC_GATEWAY_REJECTED_TOTAL = 'kvr_gateway_rejected_total';
/** Counter, labels `reason` (`connect_error`): forwarding attempts retried on the next-best pod. */
export const METRIC_GATEWAY_RETRIES_TOTAL = 'kvr_gateway_forward_retries_total';
/** Counter, label `outcome` (`ok`, `error`): speculative inserts for the chosen pod. */
export const METRIC_GATEWAY_SPECULATIVE_TOTAL = 'kvr_gateway_speculative_inserts_total';
/** Histogram, label `model`: predicted share of the prompt's blocks in the chosen pod's cache. */
export const METRIC_GATEWAY_PREDICTED_HIT_RATIO = 'kvr_gateway_predicted_hit_ratio';
/** Counter, label `model`: requests routed while the model has never had a confirmed index hit (possible silent miss: wrong model name, block size or hash seed). */
export const METRIC_GATEWAY_UNINDEXED_TOTAL = 'kvr_gateway_unindexed_model_requests_total';
/** Counter, label `outcome` (`completed`, `client_aborted`, `upstream_error`): forwarded requests by how they ended. */
export const METRIC_GATEWAY_FORWARDED_TOTAL = 'kvr_gateway_forwarded_total';
/** Gauge, labels `state` (`known`, `answering`): pods the gateway knows of and those whose /v1/models answers. */
export const METRIC_GATEWAY_PODS = 'kvr_gateway_pods';
/** Histogram, seconds: the gateway's tokenizer call. */
export const METRIC_GATEWAY_TOKENIZE_SECONDS = 'kvr_gateway_tokenize_seconds';
/** Counter, label `outcome` (`hit`, `miss`, `refresh`, `refresh_failed`): load-scorer answers reused from the gateway's short-lived cache, fetched while the request waited, or refreshed in the background. */
export const METRIC_GATEWAY_LOAD_SCORE_CACHE_TOTAL = 'kvr_gateway_load_score_cache_total';
