import { IsString } from 'class-validator';
import { Doc } from '../describe';
import { IsGrpcTarget, IsServiceUrl } from '../validators';

/**
 * Addresses `kvctl` talks to. Flags `--nats`, `--redis`, `--indexer`, `--gateway` override the
 * `KVR_NATS`, `KVR_REDIS`, `KVR_INDEXER`, `KVR_GATEWAY` variables, which override the defaults:
 * the ports the apps use when started without a config file.
 */
export class KvctlConfig {
  @Doc('NATS server(s) holding the KV_EVENTS stream; comma-separated for a cluster.')
  @IsServiceUrl(['nats', 'tls'], { list: true })
  nats = 'nats://127.0.0.1:4222';

  @Doc('Redis server holding the block index.')
  @IsServiceUrl(['redis', 'rediss'])
  redis = 'redis://127.0.0.1:6379';

  @Doc('Indexer gRPC address (host:port or unix:///path).')
  @IsGrpcTarget()
  indexer = '127.0.0.1:50051';

  @Doc('Gateway base URL.')
  @IsServiceUrl(['http', 'https'])
  gateway = 'http://127.0.0.1:8080';

  @Doc('Bearer token for admin/debug endpoints of the gateway and indexer.', { secret: true })
  @IsString()
  adminToken = '';
}
