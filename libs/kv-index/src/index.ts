// Public surface of @kvr/kv-index: the BlockIndex contract, the shared ordering and dual-key
// planning, and the in-memory backend. The conformance suite is behind `@kvr/kv-index/testing`.
export { DEFAULT_TIER_WEIGHTS } from './api';
export type { ApplyOutcome, ApplyResult, BlockIndex, DeviceTier, IndexEntry, IndexStats, LookupResult, PodMatch, PodMessage, PodPosition } from './api';
export { decidePosition, extrasFromEvent, planBatch, tierOf } from './planner';
export type { EngineKeyLookup, IndexOp, PlanCounts, PositionDecision } from './planner';
export { MemoryBlockIndex } from './memory-index';
export type { MemoryIndexOptions } from './memory-index';
