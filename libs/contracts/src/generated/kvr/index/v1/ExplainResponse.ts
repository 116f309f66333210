// Original file: libs/contracts/proto/kvr/index/v1/indexer.proto

import type { PodMatch as _kvr_index_v1_PodMatch, PodMatch__Output as _kvr_index_v1_PodMatch__Output } from '../../../kvr/index/v1/PodMatch';
import type { BlockHolders as _kvr_index_v1_BlockHolders, BlockHolders__Output as _kvr_index_v1_BlockHolders__Output } from '../../../kvr/index/v1/BlockHolders';

export interface ExplainResponse {
  'request_blocks'?: (number);
  'pods'?: (_kvr_index_v1_PodMatch)[];
  'blocks'?: (_kvr_index_v1_BlockHolders)[];
}

export interface ExplainResponse__Output {
  'request_blocks': (number);
  'pods': (_kvr_index_v1_PodMatch__Output)[];
  'blocks': (_kvr_index_v1_BlockHolders__Output)[];
}
