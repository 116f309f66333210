// Original file: libs/contracts/proto/kvr/index/v1/indexer.proto

import type { Long } from '@grpc/proto-loader';

export interface StatsResponse {
  'request_keys'?: (number | string | Long);
  'entries'?: (number | string | Long);
  'pods'?: (number);
  'engine_keys'?: (number | string | Long);
  'speculative_entries'?: (number | string | Long);
  'owned_partitions'?: (number)[];
}

export interface StatsResponse__Output {
  'request_keys': (string);
  'entries': (string);
  'pods': (number);
  'engine_keys': (string);
  'speculative_entries': (string);
  'owned_partitions': (number)[];
}
