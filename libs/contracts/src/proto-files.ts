import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { loadPackageDefinition } from '@grpc/grpc-js';
import { loadSync, type PackageDefinition } from '@grpc/proto-loader';
import { releaseFinishedHttp2Streams } from './http2-stream-release';
import { withPackedUint32Codecs } from './packed-codec';

const RELATIVE = join('libs', 'contracts', 'proto');

/**
 * Absolute path of the directory holding the `.proto` files. Found by walking up from this
 * module, so it works from the sources, from the compiled `dist/` tree and from a container
 * image that keeps the repo layout. `KVR_PROTO_DIR` overrides it.
 */
export function protoDir(): string {
  const override = process.env['KVR_PROTO_DIR'];
  if (override) return override;
  for (let dir = __dirname; ; dir = dirname(dir)) {
    const candidate = join(dir, RELATIVE);
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) throw new Error(`cannot find ${RELATIVE} above ${__dirname}; set KVR_PROTO_DIR`);
  }
}

/** Proto files, relative to `protoDir()`. */
export const TOKENIZER_PROTO = 'tokenization/tokenizer.proto';
export const SCORER_PROTO = 'kvr/scoring/v1/scorer.proto';
export const INDEXER_PROTO = 'kvr/index/v1/indexer.proto';

/** proto-loader options matching the generated types (`tools/scripts/proto-gen.sh`). */
export const PROTO_LOADER_OPTIONS = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
} as const;

/**
 * A proto file (relative to `protoDir()`) loaded with PROTO_LOADER_OPTIONS, its token-id fields
 * (`repeated uint32`) on the fast codecs of `packed-codec.ts`. Every client and server of ours loads
 * its protos here, so both ends of a call use the same codecs.
 */
export function loadProtoDefinition(file: string): PackageDefinition {
  // Every process that speaks gRPC gets here first: finished calls must not outlive scavenges.
  releaseFinishedHttp2Streams();
  return withPackedUint32Codecs(loadSync(file, { ...PROTO_LOADER_OPTIONS, includeDirs: [protoDir()] }));
}

/** The gRPC package of a proto file (see loadProtoDefinition), typed by its generated `ProtoGrpcType`. */
export function loadGrpcPackage<T>(file: string): T {
  return loadPackageDefinition(loadProtoDefinition(file)) as unknown as T;
}
