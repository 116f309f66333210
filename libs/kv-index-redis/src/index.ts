// Public surface of @kvr/kv-index-redis: the Redis backend of the BlockIndex contract.
export { RedisBlockIndex, checkServerSettings } from './redis-index';
export type { RedisIndexOptions } from './redis-index';
