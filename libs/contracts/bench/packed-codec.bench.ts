// The tokenizer's answer on the wire: a RenderCompletion response carrying the 7,200 token ids of
// the benchmark workload's prompt (upstream-spec §5.3), serialized by the service and parsed by the
// gateway on every routed request. proto-loader's own codecs (protobufjs fromObject + encode,
// decode + toObject) against ours (libs/contracts/src/packed-codec.ts), which handle the repeated
// uint32 fields themselves; both produce messages every protobuf reader parses the same.
import { loadSync, type PackageDefinition } from '@grpc/proto-loader';
import { createPrng, type BenchSuite } from '@kvr/testing';
import { PROTO_LOADER_OPTIONS, protoDir, TOKENIZER_PROTO, withPackedUint32Codecs } from '../src/index';

interface Codec {
  responseSerialize(value: unknown): Buffer;
  responseDeserialize(bytes: Buffer): unknown;
}

const IDS = 7_200;
const VOCAB = 151_643;
const load = (): PackageDefinition => loadSync(TOKENIZER_PROTO, { ...PROTO_LOADER_OPTIONS, includeDirs: [protoDir()] });
const method = (definition: PackageDefinition): Codec => (definition['tokenization.TokenizationService'] as unknown as Record<string, Codec>)['RenderCompletion'] as Codec;
const reference = method(load());
const packed = method(withPackedUint32Codecs(load()));

const prng = createPrng(2026);
const answer = { request_id: 'cmpl-0b7e6f0c-5d1e-4c4e-9a59-3f3c1f1c2a10', token_ids: Array.from({ length: IDS }, () => prng.int(VOCAB)), success: true, error_message: '' };
const wire = reference.responseSerialize(answer);

const suite: BenchSuite = {
  title: 'contracts: the tokenizer answer on the wire (7,200 token ids, RenderCompletionResponse)',
  baseline: 'serialize: proto-loader (protobufjs)',
  notes:
    'One RenderCompletion answer, serialized as the tokenizer service sends it and parsed as the gateway reads it. proto-loader = @grpc/proto-loader’s protobufjs codecs; packed = ours (one pass per repeated uint32 field, every other field left to protobufjs). Either side reads the other’s bytes (packed-codec.spec.ts).',
  setup: () => {
    if (Buffer.compare(reference.responseSerialize(answer), wire) !== 0) throw new Error('proto-loader is not deterministic here');
    const back = packed.responseDeserialize(packed.responseSerialize(answer)) as { token_ids: number[] };
    if (back.token_ids.length !== IDS || back.token_ids.some((v, i) => v !== answer.token_ids[i])) throw new Error('the packed codecs do not round-trip the answer');
  },
  cases: [
    { name: 'serialize: proto-loader (protobufjs)', fn: () => reference.responseSerialize(answer), unitsPerOp: IDS, unit: 'ids' },
    { name: 'serialize: packed', fn: () => packed.responseSerialize(answer), unitsPerOp: IDS, unit: 'ids' },
    { name: 'parse: proto-loader (protobufjs)', fn: () => reference.responseDeserialize(wire), unitsPerOp: IDS, unit: 'ids' },
    { name: 'parse: packed', fn: () => packed.responseDeserialize(wire), unitsPerOp: IDS, unit: 'ids' },
  ],
};

export default suite;
