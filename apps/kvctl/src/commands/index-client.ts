/** A promise-style client of the indexer's `kvr.index.v1.Indexer` gRPC service, for kvctl. */
import * as grpc from '@grpc/grpc-js';
import { INDEXER_PROTO, loadGrpcPackage, type IndexerProtoGrpcType } from '@kvr/contracts';

type Method = 'Lookup' | 'Explain' | 'Dump' | 'SpeculativeInsert' | 'Stats';

export interface IndexClient {
  call<T>(method: Method, request: object, timeoutMs?: number): Promise<T>;
  close(): void;
}

export function indexClient(address: string): IndexClient {
  const proto = loadGrpcPackage<IndexerProtoGrpcType>(INDEXER_PROTO);
  const client = new proto.kvr.index.v1.Indexer(address, grpc.credentials.createInsecure());
  return {
    call<T>(method: Method, request: object, timeoutMs = 5_000): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        const fn = (client as unknown as Record<Method, (req: object, options: grpc.CallOptions, cb: (err: grpc.ServiceError | null, value?: T) => void) => void>)[method].bind(client);
        fn(request, { deadline: Date.now() + timeoutMs }, (err, value) => (err ? reject(new Error(`indexer ${address}: ${err.details || err.message}`)) : resolve(value as T)));
      });
    },
    close: () => client.close(),
  };
}
