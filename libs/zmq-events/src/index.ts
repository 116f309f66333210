// Public surface of @kvr/zmq-events: vLLM's KV-event sockets over ZeroMQ — the publishing side
// (PUB + replay ROUTER, as a vLLM pod runs them) and the replay client a collector uses.
export { KvEventPublisher } from './publisher';
export type { KvEventPublisherOptions, PublisherLogger } from './publisher';
export { requestReplay } from './replay-client';
export type { ReplayedBatch, ReplayResult } from './replay-client';
