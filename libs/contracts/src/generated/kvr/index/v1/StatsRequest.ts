// Original file: libs/contracts/proto/kvr/index/v1/indexer.proto


export interface StatsRequest {
}

export interface StatsRequest__Output {
}
