/**
 * gRPC clients of the remote scorers (`kvr.scoring.v1.Scorer` on the indexer and the
 * load-scorer) and of the indexer's speculative inserts. Every call has a deadline and fails
 * fast while a service is away (no wait-for-ready); the channel reconnects with a backoff capped
 * at 2 s, so a restarted service is used again within seconds.
 */
import * as grpc from '@grpc/grpc-js';
import { context, propagation } from '@opentelemetry/api';
import {
  INDEXER_PROTO,
  loadGrpcPackage,
  SCORER_PROTO,
  type IndexerProtoGrpcType,
  type ScoreRequest,
  type ScoreResponse__Output,
  type ScorerProtoGrpcType,
} from '@kvr/contracts';

const CHANNEL_OPTIONS: grpc.ChannelOptions = {
  'grpc.initial_reconnect_backoff_ms': 100,
  'grpc.max_reconnect_backoff_ms': 2_000,
  'grpc.max_send_message_length': 64 * 1024 * 1024,
  'grpc.max_receive_message_length': 64 * 1024 * 1024,
};

let scorerPackage: ScorerProtoGrpcType | undefined;
let indexerPackage: IndexerProtoGrpcType | undefined;

/** `unix:///path` and host:port both work as grpc-js targets. */
function target(address: string): string {
  return address.startsWith('/') ? `unix://${address}` : address;
}

/** The W3C trace context of the active span, as gRPC metadata, so a service can join the trace. */
function traceMetadata(): grpc.Metadata {
  const metadata = new grpc.Metadata();
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  for (const [key, value] of Object.entries(carrier)) metadata.set(key, value);
  return metadata;
}

/** A failed call's short reason for metrics and explanations: `deadline_exceeded`, `unavailable`, … */
export function grpcFailureReason(err: unknown): string {
  const code = (err as { code?: unknown })?.code;
  if (typeof code === 'number') return (grpc.status[code] ?? 'unknown').toLowerCase();
  return 'error';
}

/** A scorer the router can call: the gRPC client below, or the gateway's own read of the index. */
export interface ScoringService {
  score(request: ScoreRequest, timeoutMs: number): Promise<ScoreResponse__Output>;
  /** Resolves true once the path is usable (false after `timeoutMs`). */
  connect(timeoutMs: number): Promise<boolean>;
  close(): void;
}

/** Where the chosen pod's speculative entries go: the indexer over gRPC, or the index's Redis. */
export interface SpeculativeWriter {
  /** Resolves with the number of keys written. */
  speculativeInsert(insert: SpeculativeInsert, timeoutMs: number): Promise<number>;
  connect(timeoutMs: number): Promise<boolean>;
  close(): void;
}

export class ScorerClient implements ScoringService {
  private readonly client: InstanceType<ScorerProtoGrpcType['kvr']['scoring']['v1']['Scorer']>;

  constructor(address: string) {
    scorerPackage ??= loadGrpcPackage<ScorerProtoGrpcType>(SCORER_PROTO);
    this.client = new scorerPackage.kvr.scoring.v1.Scorer(target(address), grpc.credentials.createInsecure(), CHANNEL_OPTIONS);
  }

  score(request: ScoreRequest, timeoutMs: number): Promise<ScoreResponse__Output> {
    return new Promise((resolve, reject) => {
      this.client.Score(request, traceMetadata(), { deadline: Date.now() + timeoutMs }, (err, response) => {
        if (err) reject(err);
        else if (!response) reject(new Error('empty Score response'));
        else resolve(response);
      });
    });
  }

  /** Resolves true once the channel is connected (false after `timeoutMs`): a warm-up, never fatal. */
  connect(timeoutMs: number): Promise<boolean> {
    return waitForReady(this.client, timeoutMs);
  }

  close(): void {
    this.client.close();
  }
}

export function waitForReady(client: grpc.Client, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => client.waitForReady(Date.now() + timeoutMs, (err) => resolve(!err)));
}

export interface SpeculativeInsert {
  model: string;
  loraName: string;
  pod: string;
  /** The request's keys, computed by the gateway (same block size and hash seed as the indexer). */
  requestKeys: readonly bigint[];
  ttlMs: number;
}

export class IndexerClient implements SpeculativeWriter {
  private readonly client: InstanceType<IndexerProtoGrpcType['kvr']['index']['v1']['Indexer']>;

  constructor(address: string) {
    indexerPackage ??= loadGrpcPackage<IndexerProtoGrpcType>(INDEXER_PROTO);
    this.client = new indexerPackage.kvr.index.v1.Indexer(target(address), grpc.credentials.createInsecure(), CHANNEL_OPTIONS);
  }

  speculativeInsert(insert: SpeculativeInsert, timeoutMs: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.client.SpeculativeInsert(
        { model: insert.model, lora_name: insert.loraName, pod: insert.pod, request_keys: insert.requestKeys.map(String), ttl_ms: insert.ttlMs },
        traceMetadata(),
        { deadline: Date.now() + timeoutMs },
        (err, response) => (err ? reject(err) : resolve(response?.blocks ?? 0)),
      );
    });
  }

  connect(timeoutMs: number): Promise<boolean> {
    return waitForReady(this.client, timeoutMs);
  }

  close(): void {
    this.client.close();
  }
}
