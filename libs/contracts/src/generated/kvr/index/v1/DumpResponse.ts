// Original file: libs/contracts/proto/kvr/index/v1/indexer.proto

import type { IndexEntry as _kvr_index_v1_IndexEntry, IndexEntry__Output as _kvr_index_v1_IndexEntry__Output } from '../../../kvr/index/v1/IndexEntry';

export interface DumpResponse {
  'entries'?: (_kvr_index_v1_IndexEntry)[];
}

export interface DumpResponse__Output {
  'entries': (_kvr_index_v1_IndexEntry__Output)[];
}
