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
