// Original file: libs/contracts/proto/kvr/index/v1/indexer.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { DumpRequest as _kvr_index_v1_DumpRequest, DumpRequest__Output as _kvr_index_v1_DumpRequest__Output } from '../../../kvr/index/v1/DumpRequest';
import type { DumpResponse as _kvr_index_v1_DumpResponse, DumpResponse__Output as _kvr_index_v1_DumpResponse__Output } from '../../../kvr/index/v1/DumpResponse';
import type { ExplainResponse as _kvr_index_v1_ExplainResponse, ExplainResponse__Output as _kvr_index_v1_ExplainResponse__Output } from '../../../kvr/index/v1/ExplainResponse';
import type { LookupRequest as _kvr_index_v1_LookupRequest, LookupRequest__Output as _kvr_index_v1_LookupRequest__Output } from '../../../kvr/index/v1/LookupRequest';
import type { LookupResponse as _kvr_index_v1_LookupResponse, LookupResponse__Output as _kvr_index_v1_LookupResponse__Output } from '../../../kvr/index/v1/LookupResponse';
import type { SpeculativeInsertRequest as _kvr_index_v1_SpeculativeInsertRequest, SpeculativeInsertRequest__Output as _kvr_index_v1_SpeculativeInsertRequest__Output } from '../../../kvr/index/v1/SpeculativeInsertRequest';
import type { SpeculativeInsertResponse as _kvr_index_v1_SpeculativeInsertResponse, SpeculativeInsertResponse__Output as _kvr_index_v1_SpeculativeInsertResponse__Output } from '../../../kvr/index/v1/SpeculativeInsertResponse';
import type { StatsRequest as _kvr_index_v1_StatsRequest, StatsRequest__Output as _kvr_index_v1_StatsRequest__Output } from '../../../kvr/index/v1/StatsRequest';
import type { StatsResponse as _kvr_index_v1_StatsResponse, StatsResponse__Output as _kvr_index_v1_StatsResponse__Output } from '../../../kvr/index/v1/StatsResponse';

export interface IndexerClient extends grpc.Client {
  /**
   * Live entries, optionally of one pod.
   */
  Dump(argument: _kvr_index_v1_DumpRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kvr_index_v1_DumpResponse__Output>): grpc.ClientUnaryCall;
  Dump(argument: _kvr_index_v1_DumpRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kvr_index_v1_DumpResponse__Output>): grpc.ClientUnaryCall;
  Dump(argument: _kvr_index_v1_DumpRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kvr_index_v1_DumpResponse__Output>): grpc.ClientUnaryCall;
  Dump(argument: _kvr_index_v1_DumpRequest, callback: grpc.requestCallback<_kvr_index_v1_DumpResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Live entries, optionally of one pod.
   */
  dump(argument: _kvr_index_v1_DumpRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kvr_index_v1_DumpResponse__Output>): grpc.ClientUnaryCall;
  dump(argument: _kvr_index_v1_DumpRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kvr_index_v1_DumpResponse__Output>): grpc.ClientUnaryCall;
  dump(argument: _kvr_index_v1_DumpRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kvr_index_v1_DumpResponse__Output>): grpc.ClientUnaryCall;
  dump(argument: _kvr_index_v1_DumpRequest, callback: grpc.requestCallback<_kvr_index_v1_DumpResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Like Lookup, plus per block which candidate pods hold it (for explaining a routing decision).
   */
  Explain(argument: _kvr_index_v1_LookupRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kvr_index_v1_ExplainResponse__Output>): grpc.ClientUnaryCall;
  Explain(argument: _kvr_index_v1_LookupRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kvr_index_v1_ExplainResponse__Output>): grpc.ClientUnaryCall;
  Explain(argument: _kvr_index_v1_LookupRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kvr_index_v1_ExplainResponse__Output>): grpc.ClientUnaryCall;
  Explain(argument: _kvr_index_v1_LookupRequest, callback: grpc.requestCallback<_kvr_index_v1_ExplainResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Like Lookup, plus per block which candidate pods hold it (for explaining a routing decision).
   */
  explain(argument: _kvr_index_v1_LookupRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kvr_index_v1_ExplainResponse__Output>): grpc.ClientUnaryCall;
  explain(argument: _kvr_index_v1_LookupRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kvr_index_v1_ExplainResponse__Output>): grpc.ClientUnaryCall;
  explain(argument: _kvr_index_v1_LookupRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kvr_index_v1_ExplainResponse__Output>): grpc.ClientUnaryCall;
  explain(argument: _kvr_index_v1_LookupRequest, callback: grpc.requestCallback<_kvr_index_v1_ExplainResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Consecutive matched blocks per candidate pod for a prompt (token ids) or for request keys.
   */
  Lookup(argument: _kvr_index_v1_LookupRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kvr_index_v1_LookupResponse__Output>): grpc.ClientUnaryCall;
  Lookup(argument: _kvr_index_v1_LookupRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kvr_index_v1_LookupResponse__Output>): grpc.ClientUnaryCall;
  Lookup(argument: _kvr_index_v1_LookupRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kvr_index_v1_LookupResponse__Output>): grpc.ClientUnaryCall;
  Lookup(argument: _kvr_index_v1_LookupRequest, callback: grpc.requestCallback<_kvr_index_v1_LookupResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Consecutive matched blocks per candidate pod for a prompt (token ids) or for request keys.
   */
  lookup(argument: _kvr_index_v1_LookupRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kvr_index_v1_LookupResponse__Output>): grpc.ClientUnaryCall;
  lookup(argument: _kvr_index_v1_LookupRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kvr_index_v1_LookupResponse__Output>): grpc.ClientUnaryCall;
  lookup(argument: _kvr_index_v1_LookupRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kvr_index_v1_LookupResponse__Output>): grpc.ClientUnaryCall;
  lookup(argument: _kvr_index_v1_LookupRequest, callback: grpc.requestCallback<_kvr_index_v1_LookupResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Entries for a pod the gateway just routed to, expiring after ttl_ms unless real events arrive.
   */
  SpeculativeInsert(argument: _kvr_index_v1_SpeculativeInsertRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kvr_index_v1_SpeculativeInsertResponse__Output>): grpc.ClientUnaryCall;
  SpeculativeInsert(argument: _kvr_index_v1_SpeculativeInsertRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kvr_index_v1_SpeculativeInsertResponse__Output>): grpc.ClientUnaryCall;
  SpeculativeInsert(argument: _kvr_index_v1_SpeculativeInsertRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kvr_index_v1_SpeculativeInsertResponse__Output>): grpc.ClientUnaryCall;
  SpeculativeInsert(argument: _kvr_index_v1_SpeculativeInsertRequest, callback: grpc.requestCallback<_kvr_index_v1_SpeculativeInsertResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Entries for a pod the gateway just routed to, expiring after ttl_ms unless real events arrive.
   */
  speculativeInsert(argument: _kvr_index_v1_SpeculativeInsertRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kvr_index_v1_SpeculativeInsertResponse__Output>): grpc.ClientUnaryCall;
  speculativeInsert(argument: _kvr_index_v1_SpeculativeInsertRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kvr_index_v1_SpeculativeInsertResponse__Output>): grpc.ClientUnaryCall;
  speculativeInsert(argument: _kvr_index_v1_SpeculativeInsertRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kvr_index_v1_SpeculativeInsertResponse__Output>): grpc.ClientUnaryCall;
  speculativeInsert(argument: _kvr_index_v1_SpeculativeInsertRequest, callback: grpc.requestCallback<_kvr_index_v1_SpeculativeInsertResponse__Output>): grpc.ClientUnaryCall;
  
  Stats(argument: _kvr_index_v1_StatsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kvr_index_v1_StatsResponse__Output>): grpc.ClientUnaryCall;
  Stats(argument: _kvr_index_v1_StatsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kvr_index_v1_StatsResponse__Output>): grpc.ClientUnaryCall;
  Stats(argument: _kvr_index_v1_StatsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kvr_index_v1_StatsResponse__Output>): grpc.ClientUnaryCall;
  Stats(argument: _kvr_index_v1_StatsRequest, callback: grpc.requestCallback<_kvr_index_v1_StatsResponse__Output>): grpc.ClientUnaryCall;
  stats(argument: _kvr_index_v1_StatsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kvr_index_v1_StatsResponse__Output>): grpc.ClientUnaryCall;
  stats(argument: _kvr_index_v1_StatsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kvr_index_v1_StatsResponse__Output>): grpc.ClientUnaryCall;
  stats(argument: _kvr_index_v1_StatsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kvr_index_v1_StatsResponse__Output>): grpc.ClientUnaryCall;
  stats(argument: _kvr_index_v1_StatsRequest, callback: grpc.requestCallback<_kvr_index_v1_StatsResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface IndexerHandlers extends grpc.UntypedServiceImplementation {
  /**
   * Live entries, optionally of one pod.
   */
  Dump: grpc.handleUnaryCall<_kvr_index_v1_DumpRequest__Output, _kvr_index_v1_DumpResponse>;
  
  /**
   * Like Lookup, plus per block which candidate pods hold it (for explaining a routing decision).
   */
  Explain: grpc.handleUnaryCall<_kvr_index_v1_LookupRequest__Output, _kvr_index_v1_ExplainResponse>;
  
  /**
   * Consecutive matched blocks per candidate pod for a prompt (token ids) or for request keys.
   */
  Lookup: grpc.handleUnaryCall<_kvr_index_v1_LookupRequest__Output, _kvr_index_v1_LookupResponse>;
  
  /**
   * Entries for a pod the gateway just routed to, expiring after ttl_ms unless real events arrive.
   */
  SpeculativeInsert: grpc.handleUnaryCall<_kvr_index_v1_SpeculativeInsertRequest__Output, _kvr_index_v1_SpeculativeInsertResponse>;
  
  Stats: grpc.handleUnaryCall<_kvr_index_v1_StatsRequest__Output, _kvr_index_v1_StatsResponse>;
  
}

export interface IndexerDefinition extends grpc.ServiceDefinition {
  Dump: MethodDefinition<_kvr_index_v1_DumpRequest, _kvr_index_v1_DumpResponse, _kvr_index_v1_DumpRequest__Output, _kvr_index_v1_DumpResponse__Output>
  Explain: MethodDefinition<_kvr_index_v1_LookupRequest, _kvr_index_v1_ExplainResponse, _kvr_index_v1_LookupRequest__Output, _kvr_index_v1_ExplainResponse__Output>
  Lookup: MethodDefinition<_kvr_index_v1_LookupRequest, _kvr_index_v1_LookupResponse, _kvr_index_v1_LookupRequest__Output, _kvr_index_v1_LookupResponse__Output>
  SpeculativeInsert: MethodDefinition<_kvr_index_v1_SpeculativeInsertRequest, _kvr_index_v1_SpeculativeInsertResponse, _kvr_index_v1_SpeculativeInsertRequest__Output, _kvr_index_v1_SpeculativeInsertResponse__Output>
  Stats: MethodDefinition<_kvr_index_v1_StatsRequest, _kvr_index_v1_StatsResponse, _kvr_index_v1_StatsRequest__Output, _kvr_index_v1_StatsResponse__Output>
}
