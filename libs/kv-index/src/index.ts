// Public surface of @kvr/kv-index: the BlockIndex contract, the shared ordering and dual-key
// planning, and the in-memory backend. The conformance suite is behind `@kvr/kv-index/testing`.
export { DEFAULT_TIER_WEIGHTS } from './api';
export type { AdminOutcome, ApplyOutcome, ApplyResult, BlockIndex, DeviceTier, EngineBlockState, IndexEntry, IndexStats, LookupResult, PodMatch, PodMessage, PodPosition, PodState } from './api';
export { decidePosition, extrasFromEvent, planBatch, tierOf } from './planner';
export type { EngineKeyLookup, IndexOp, PlanCounts, PositionDecision } from './planner';
export { MemoryBlockIndex } from './memory-index';
export type { MemoryIndexOptions } from './memory-index';
export { SNAPSHOT_FORMAT, SnapshotFormatError, decodeSnapshot, encodeSnapshot } from './snapshot';
export type { IndexSnapshot } from './snapshot';
