import type * as grpc from '@grpc/grpc-js';
import { loadGrpcPackage, TOKENIZER_PROTO, type TokenizerProtoGrpcType } from '@kvr/contracts';

let cached: TokenizerProtoGrpcType | undefined;

/** The `tokenization` package loaded from the proto file (once per process). */
export function tokenizerProto(): TokenizerProtoGrpcType {
  cached ??= loadGrpcPackage<TokenizerProtoGrpcType>(TOKENIZER_PROTO);
  return cached;
}

/**
 * Channel options matching the reference server and Go client: 100 MiB messages (a 128k-token
 * prompt is far below that), keepalive so an idle sidecar connection is noticed when it dies.
 * Reconnect backoff is capped at 2 s (grpc-js defaults to 120 s): a restarted sidecar is used
 * again within seconds, and calls fail fast (no wait-for-ready) while it is away.
 */
export function channelOptions(maxMessageBytes: number): grpc.ChannelOptions {
  return {
    'grpc.max_send_message_length': maxMessageBytes,
    'grpc.max_receive_message_length': maxMessageBytes,
    'grpc.keepalive_time_ms': 600_000,
    'grpc.keepalive_timeout_ms': 10_000,
    'grpc.initial_reconnect_backoff_ms': 100,
    'grpc.max_reconnect_backoff_ms': 2_000,
  };
}

/** `unix:///abs/path` for a socket path; host:port targets unchanged. */
export function grpcTarget(socketPathOrTarget: string): string {
  return socketPathOrTarget.startsWith('/') ? `unix://${socketPathOrTarget}` : socketPathOrTarget;
}
