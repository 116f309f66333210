import { IsArray, IsBoolean, IsIn, IsInt, IsObject, IsOptional, IsString, Max, Min } from 'class-validator';
import type { CrossFieldRules } from '../load';
import { Doc, Section } from '../describe';
import { IsServiceUrl } from '../validators';

/** A JetStream stream the collector provisions. */
export class StreamSettings {
  @Doc('Stream name.')
  @IsString()
  name = 'KV_EVENTS';

  @Doc('file (survives a NATS restart) or memory.')
  @IsIn(['file', 'memory'])
  storage = 'file';

  @Doc('Oldest message kept, in seconds (0: no limit). The index can be rebuilt from what the stream holds.')
  @IsInt()
  @Min(0)
  maxAgeSeconds = 24 * 3600;

  @Doc('Most bytes kept (-1: no limit); older messages are discarded first.')
  @IsInt()
  @Min(-1)
  maxBytes = 10 * 1024 * 1024 * 1024;

  @Doc('JetStream duplicate window in seconds: republishing a batch within it is dropped by Nats-Msg-Id.')
  @IsInt()
  @Min(1)
  duplicateWindowSeconds = 120;

  @Doc('Stream replicas (NATS cluster).')
  @IsInt()
  @Min(1)
  @Max(5)
  replicas = 1;
}

/** Where the pods are. */
export class PodDiscoverySettings {
  @Doc('static: the `pods` list; file: a watched YAML/JSON file; kubernetes: pods by label selector.')
  @IsIn(['static', 'file', 'kubernetes'])
  kind = 'static';

  @Doc('static: pods as objects {address, httpPort?, id?, zmqEndpoint?, replayEndpoint?, model?, name?} (see libs/discovery); id defaults to <address>:<httpPort>. JSON in KVR_DISCOVERY__PODS.')
  @IsArray()
  @IsObject({ each: true })
  pods: Record<string, unknown>[] = [];

  @Doc('file: path of the YAML/JSON pod list (same objects), reloaded when it changes.')
  @IsString()
  file = '';

  @Doc('kubernetes: namespace (empty: the pod\'s own namespace).')
  @IsString()
  namespace = '';

  @Doc('kubernetes: label selector of the vLLM pods.')
  @IsString()
  labelSelector = 'llm-d.ai/inference-serving=true';

  @Doc('kubernetes: inference HTTP port (pod id = <pod IP>:<port>).')
  @IsInt()
  @Min(1)
  @Max(65535)
  httpPort = 8000;

  @Doc('kubernetes: KV-events PUB port on each pod (vLLM --kv-events-config endpoint).')
  @IsInt()
  @Min(1)
  @Max(65535)
  zmqPort = 5557;

  @Doc('kubernetes: replay ROUTER port on each pod; 0: pods have no replay socket (the reference overlay).')
  @IsInt()
  @Min(0)
  @Max(65535)
  replayPort = 0;

  @Doc('kubernetes: label or annotation that names the pod\'s model (empty: take it from the event topic).')
  @IsString()
  modelKey = '';

  @Doc('kubernetes: API server URL (empty: in-cluster, from KUBERNETES_SERVICE_HOST/PORT and the service account).')
  @IsString()
  apiServer = '';

  /** This block's cross-field rule, worded for the `discovery` section every app config gives it. */
  problems(): string[] {
    return this.kind === 'file' && this.file === '' ? ['discovery.file is required when discovery.kind is file'] : [];
  }
}

/** ZMQ side. */
export class CollectorZmqSettings {
  @Doc('Subscription prefix on each PUB socket (llm-d subscribes with "kv@").')
  @IsString()
  topicPrefix = 'kv@';

  @Doc('Batches queued per pod before new ones are dropped (a drop is repaired like a gap).')
  @IsInt()
  @Min(1)
  maxQueuedBatches = 10_000;

  @Doc('Replay: give up when the pod sends nothing for this long (ms).')
  @IsInt()
  @Min(10)
  replayIdleTimeoutMs = 2_000;

  @Doc('Replay: give up after this long overall (ms).')
  @IsInt()
  @Min(100)
  replayTimeoutMs = 30_000;
}

/** JetStream publishing. */
export class CollectorPublishSettings {
  @Doc('Publishes awaiting their acknowledgement at once.')
  @IsInt()
  @Min(1)
  maxPendingAcks = 256;

  @Doc('Bytes held for NATS while it is slow or down; beyond that, batches are dropped (counted) and later repaired by replay or a pod reset.')
  @IsInt()
  @Min(1024)
  maxBufferBytes = 64 * 1024 * 1024;

  @Doc('Acknowledgement deadline per publish (ms).')
  @IsInt()
  @Min(10)
  ackTimeoutMs = 5_000;
}

export class CollectorConfig implements CrossFieldRules {
  @Doc('NATS server(s); comma-separated for a cluster.')
  @IsServiceUrl(['nats', 'tls'], { list: true })
  nats = 'nats://127.0.0.1:4222';

  @Doc('Partitions of the events stream: pod → partition = FNV-1a-32(pod id) mod partitions. Every collector and indexer must agree.')
  @IsInt()
  @Min(1)
  @Max(1024)
  partitions = 8;

  @Doc('Name of this replica in logs and epoch records (empty: hostname-pid).')
  @IsString()
  instance = '';

  @Doc('NATS KV bucket holding the per-pod engine epochs shared by replicas.')
  @IsString()
  epochBucket = 'kvr_pod_epochs';

  @Doc('Events stream.')
  @Section(() => StreamSettings)
  stream = new StreamSettings();

  @Doc('Dead-letter stream (kv.dlq.>): payloads that did not decode, kept with the error.')
  @Section(() => StreamSettings)
  deadLetterStream = Object.assign(new StreamSettings(), { name: 'KV_DLQ', maxAgeSeconds: 7 * 24 * 3600, maxBytes: 1024 * 1024 * 1024 });

  @Doc('Pod discovery.')
  @Section(() => PodDiscoverySettings)
  discovery = new PodDiscoverySettings();

  @Doc('ZMQ subscription and replay.')
  @Section(() => CollectorZmqSettings)
  zmq = new CollectorZmqSettings();

  @Doc('JetStream publishing.')
  @Section(() => CollectorPublishSettings)
  publish = new CollectorPublishSettings();

  @Doc('Host of the HTTP server for /health, /ready, /metrics.')
  @IsString()
  probeHost = '127.0.0.1';

  @Doc('Port of that server (0 picks one).')
  @IsInt()
  @Min(0)
  @Max(65535)
  probePort = 8091;

  @Doc('Log level: fatal, error, warn, info, debug, trace or silent.')
  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  logLevel = 'info';

  @Doc('Treat every replay endpoint as absent (to reproduce the reference deployment).')
  @IsOptional()
  @IsBoolean()
  disableReplay = false;

  crossFieldProblems(): string[] {
    const problems: string[] = [];
    problems.push(...this.discovery.problems());
    if (this.stream.name === this.deadLetterStream.name) problems.push('stream.name and deadLetterStream.name must differ');
    return problems;
  }
}
