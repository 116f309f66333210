import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

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
