/**
 * The ZMQ topic frame. llm-d's convention (guide `patch-vllm.yaml@34272a64`):
 * `kv@<pod-id>@<model>`, with `<pod-id>` = `<POD_IP>:<inference port>` (e.g. `10.0.3.7:8000`;
 * IP-only before llm-d-inference-scheduler `4cd7046e`).
 *
 * Parsing rule (ours): split on the FIRST TWO `@` only. Everything after the second `@` is the model,
 * so models may contain `/`, `:` and `@` (`org/model:rev@v2`). The text before the first `@` (the
 * subscription prefix, `kv`) is not checked, as in llm-d. A pod id cannot contain `@`; IPv4, IPv6
 * (with or without brackets) and host names all work.
 *
 * A topic without two `@`, or with an empty pod id, does not follow the convention: then
 * `podId` = the whole topic and `model` = '' (llm-d's `parseTopic` fallback, so pod keys stay
 * the same), and `conventional` = false so collectors can count such pods.
 *
 * Difference from llm-d (`pkg/kvevents/engineadapter/common.go@7be76e1`): llm-d splits on EVERY
 * `@` and requires exactly 3 parts, so a model containing `@` falls back to (whole topic, '') there.
 */

export const KV_TOPIC_PREFIX = 'kv';
const SEPARATOR = '@';

export interface KvEventTopic {
  /** The topic frame, decoded as UTF-8. */
  readonly topic: string;
  /** `<ip>:<port>` by convention; the whole topic when it does not follow the convention. */
  readonly podId: string;
  /** The model name; '' when the topic does not follow the convention. */
  readonly model: string;
  /** Whether the topic had the form `<prefix>@<non-empty pod id>@<model>`. */
  readonly conventional: boolean;
}

export function parseKvEventTopic(topic: string): KvEventTopic {
  const first = topic.indexOf(SEPARATOR);
  const second = first < 0 ? -1 : topic.indexOf(SEPARATOR, first + 1);
  if (second < 0 || second === first + 1) return { topic, podId: topic, model: '', conventional: false };
  return { topic, podId: topic.slice(first + 1, second), model: topic.slice(second + 1), conventional: true };
}

/**
 * Builds `<prefix>@<podId>@<model>`. Throws RangeError for an empty pod id or one containing `@`
 * (it would not parse back) and for a prefix containing `@`.
 */
export function formatKvEventTopic(podId: string, model: string, prefix: string = KV_TOPIC_PREFIX): string {
  if (podId.length === 0 || podId.includes(SEPARATOR)) throw new RangeError(`pod id ${JSON.stringify(podId)} must be non-empty and contain no '${SEPARATOR}'`);
  if (prefix.includes(SEPARATOR)) throw new RangeError(`topic prefix ${JSON.stringify(prefix)} must not contain '${SEPARATOR}'`);
  return `${prefix}${SEPARATOR}${podId}${SEPARATOR}${model}`;
}
