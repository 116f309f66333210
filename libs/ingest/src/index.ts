// Public surface of @kvr/ingest: the collector's per-pod ordering decisions, without I/O.
export { decideSequence, fillGap, PodPosition } from './sequence-tracker';
export type { PublishedPosition, SequenceDecision } from './sequence-tracker';
