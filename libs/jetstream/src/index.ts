// Public surface of @kvr/jetstream: stream provisioning, ordered publishing, shared pod epochs,
// stored positions — the NATS JetStream adapter shared by the collector, the indexer and kvctl.
export { ensureStream, streamDifferences, StreamConfigConflictError, isNotFound } from './streams';
export type { StreamSpec } from './streams';
export { messageBytes, OrderedPublisher } from './publisher';
export type { OrderedPublisherOptions, OutboundMessage, PublisherHooks } from './publisher';
export { EpochStore, epochKey, DEFAULT_EPOCH_BUCKET } from './epochs';
export { lastStoredPosition, positionFromHeaders } from './positions';
export type { StoredPosition } from './positions';
export { toHeaders, fromHeaders } from './headers';
export { SnapshotStore, DEFAULT_SNAPSHOT_BUCKET } from './snapshots';
export type { SnapshotInfo } from './snapshots';
