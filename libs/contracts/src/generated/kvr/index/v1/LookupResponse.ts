// Original file: libs/contracts/proto/kvr/index/v1/indexer.proto

import type { PodMatch as _kvr_index_v1_PodMatch, PodMatch__Output as _kvr_index_v1_PodMatch__Output } from '../../../kvr/index/v1/PodMatch';

export interface LookupResponse {
  'request_blocks'?: (number);
  'pods'?: (_kvr_index_v1_PodMatch)[];
}

export interface LookupResponse__Output {
  'request_blocks': (number);
  'pods': (_kvr_index_v1_PodMatch__Output)[];
}
