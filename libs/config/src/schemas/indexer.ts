import { IsBoolean, IsIn, IsInt, IsString, Max, Min } from 'class-validator';
import type { CrossFieldRules } from '../load';
import { Doc, Section } from '../describe';
import { CollectorZmqSettings, PodDiscoverySettings } from './collector';
import { isHostPort, IsServiceUrl } from '../validators';

export class IndexerConfig implements CrossFieldRules {
  @Doc('NATS server(s) holding the events stream; comma-separated for a cluster.')
  @IsServiceUrl(['nats', 'tls'], { list: true })
  nats = 'nats://127.0.0.1:4222';

  @Doc('Redis holding the block index (redis:// or rediss://, with user:password@ when needed; the password is redacted in logs).')
  @IsServiceUrl(['redis', 'rediss'])
  redis = 'redis://127.0.0.1:6379';

  @Doc('Key prefix in Redis, so that fleets can share one.')
  @IsString()
  redisPrefix = 'kvr';

  @Doc('Events stream name (as the collector provisions it).')
  @IsString()
  stream = 'KV_EVENTS';

  @Doc('Partitions of the events stream; must equal the collectors\' setting.')
  @IsInt()
  @Min(1)
  @Max(1024)
  partitions = 8;

  @Doc('Tokens per block of the request keys (must equal vLLM --block-size and the gateway).')
  @IsInt()
  @Min(1)
  blockSize = 64;

  @Doc('llm-d hashSeed of the request keys (must equal the gateway\'s).')
  @IsString()
  hashSeed = '';

  @Doc('gRPC listen address host:port of the Scorer service (port 0 picks one).')
  @IsString()
  grpc = '127.0.0.1:50051';

  @Doc('NATS KV bucket of the partition leases.')
  @IsString()
  leaseBucket = 'kvr_partition_leases';

  @Doc('NATS Object Store bucket of the index snapshots (one object per partition).')
  @IsString()
  snapshotBucket = 'kvr_index_snapshots';

  @Doc('Seconds between snapshots of each owned partition (0: none). A rebuild restores the newest snapshot and replays the stream after it, so snapshots must be taken more often than the stream trims (stream.maxAgeSeconds / maxBytes).')
  @IsInt()
  @Min(0)
  snapshotIntervalSeconds = 60;

  @Doc('A lease not renewed for this long expires and another replica may take the partition.')
  @IsInt()
  @Min(2)
  leaseTtlSeconds = 10;

  @Doc('Most partitions this replica consumes at once (0: as many as it can get).')
  @IsInt()
  @Min(0)
  maxPartitions = 0;

  @Doc('Redeliveries of a batch that arrived before its predecessor before the gap is accepted (pod cleared, batch applied).')
  @IsInt()
  @Min(1)
  maxEarlyDeliveries = 5;

  @Doc('Delay before an early batch is redelivered (ms).')
  @IsInt()
  @Min(1)
  earlyRedeliveryMs = 200;

  @Doc('Name of this replica in leases and logs (empty: hostname-pid).')
  @IsString()
  instance = '';

  @Doc('Host of the HTTP server for /health, /ready, /metrics.')
  @IsString()
  probeHost = '127.0.0.1';

  @Doc('Port of that server (0 picks one).')
  @IsInt()
  @Min(0)
  @Max(65535)
  probePort = 8092;

  @Doc('Log level: fatal, error, warn, info, debug, trace or silent.')
  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  logLevel = 'info';

  @Doc('Run without NATS and Redis: subscribe to the pods\' KV events in this process (discovery and zmq below) into an in-memory index served on the same gRPC services. One replica only, nothing shared, nothing kept across a restart: for machines without redis-server and nats-server (the demo falls back to it). nats, redis, leases and snapshots are not used.')
  @IsBoolean()
  standalone = false;

  @Doc('Standalone mode only: where the pods are (as the collector\'s discovery).')
  @Section(() => PodDiscoverySettings)
  discovery = new PodDiscoverySettings();

  @Doc('Standalone mode only: ZMQ subscription and replay (as the collector\'s).')
  @Section(() => CollectorZmqSettings)
  zmq = new CollectorZmqSettings();

  crossFieldProblems(): string[] {
    const problems = isHostPort(this.grpc) ? [] : [`grpc: "${this.grpc}" is not host:port`];
    if (this.standalone) problems.push(...this.discovery.problems());
    return problems;
  }
}
