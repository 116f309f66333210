import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { BlockHolders as _kvr_index_v1_BlockHolders, BlockHolders__Output as _kvr_index_v1_BlockHolders__Output } from './kvr/index/v1/BlockHolders';
import type { DumpRequest as _kvr_index_v1_DumpRequest, DumpRequest__Output as _kvr_index_v1_DumpRequest__Output } from './kvr/index/v1/DumpRequest';
import type { DumpResponse as _kvr_index_v1_DumpResponse, DumpResponse__Output as _kvr_index_v1_DumpResponse__Output } from './kvr/index/v1/DumpResponse';
import type { ExplainResponse as _kvr_index_v1_ExplainResponse, ExplainResponse__Output as _kvr_index_v1_ExplainResponse__Output } from './kvr/index/v1/ExplainResponse';
import type { IndexEntry as _kvr_index_v1_IndexEntry, IndexEntry__Output as _kvr_index_v1_IndexEntry__Output } from './kvr/index/v1/IndexEntry';
import type { IndexerClient as _kvr_index_v1_IndexerClient, IndexerDefinition as _kvr_index_v1_IndexerDefinition } from './kvr/index/v1/Indexer';
import type { LookupRequest as _kvr_index_v1_LookupRequest, LookupRequest__Output as _kvr_index_v1_LookupRequest__Output } from './kvr/index/v1/LookupRequest';
import type { LookupResponse as _kvr_index_v1_LookupResponse, LookupResponse__Output as _kvr_index_v1_LookupResponse__Output } from './kvr/index/v1/LookupResponse';
import type { PodMatch as _kvr_index_v1_PodMatch, PodMatch__Output as _kvr_index_v1_PodMatch__Output } from './kvr/index/v1/PodMatch';
import type { SpeculativeInsertRequest as _kvr_index_v1_SpeculativeInsertRequest, SpeculativeInsertRequest__Output as _kvr_index_v1_SpeculativeInsertRequest__Output } from './kvr/index/v1/SpeculativeInsertRequest';
import type { SpeculativeInsertResponse as _kvr_index_v1_SpeculativeInsertResponse, SpeculativeInsertResponse__Output as _kvr_index_v1_SpeculativeInsertResponse__Output } from './kvr/index/v1/SpeculativeInsertResponse';
import type { StatsRequest as _kvr_index_v1_StatsRequest, StatsRequest__Output as _kvr_index_v1_StatsRequest__Output } from './kvr/index/v1/StatsRequest';
import type { StatsResponse as _kvr_index_v1_StatsResponse, StatsResponse__Output as _kvr_index_v1_StatsResponse__Output } from './kvr/index/v1/StatsResponse';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  kvr: {
    index: {
      v1: {
        BlockHolders: MessageTypeDefinition<_kvr_index_v1_BlockHolders, _kvr_index_v1_BlockHolders__Output>
        DumpRequest: MessageTypeDefinition<_kvr_index_v1_DumpRequest, _kvr_index_v1_DumpRequest__Output>
        DumpResponse: MessageTypeDefinition<_kvr_index_v1_DumpResponse, _kvr_index_v1_DumpResponse__Output>
        ExplainResponse: MessageTypeDefinition<_kvr_index_v1_ExplainResponse, _kvr_index_v1_ExplainResponse__Output>
        IndexEntry: MessageTypeDefinition<_kvr_index_v1_IndexEntry, _kvr_index_v1_IndexEntry__Output>
        Indexer: SubtypeConstructor<typeof grpc.Client, _kvr_index_v1_IndexerClient> & { service: _kvr_index_v1_IndexerDefinition }
        LookupRequest: MessageTypeDefinition<_kvr_index_v1_LookupRequest, _kvr_index_v1_LookupRequest__Output>
        LookupResponse: MessageTypeDefinition<_kvr_index_v1_LookupResponse, _kvr_index_v1_LookupResponse__Output>
        PodMatch: MessageTypeDefinition<_kvr_index_v1_PodMatch, _kvr_index_v1_PodMatch__Output>
        SpeculativeInsertRequest: MessageTypeDefinition<_kvr_index_v1_SpeculativeInsertRequest, _kvr_index_v1_SpeculativeInsertRequest__Output>
        SpeculativeInsertResponse: MessageTypeDefinition<_kvr_index_v1_SpeculativeInsertResponse, _kvr_index_v1_SpeculativeInsertResponse__Output>
        StatsRequest: MessageTypeDefinition<_kvr_index_v1_StatsRequest, _kvr_index_v1_StatsRequest__Output>
        StatsResponse: MessageTypeDefinition<_kvr_index_v1_StatsResponse, _kvr_index_v1_StatsResponse__Output>
      }
    }
  }
}

