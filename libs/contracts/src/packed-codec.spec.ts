import { loadSync, type PackageDefinition } from '@grpc/proto-loader';
import { seededRandom } from '@kvr/testing';
import { encodePackedUint32, packedUint32Fields, withPackedUint32Codecs } from './packed-codec';
import { PROTO_LOADER_OPTIONS, protoDir, SCORER_PROTO, TOKENIZER_PROTO } from './proto-files';

interface Codec {
  requestSerialize(value: unknown): Buffer;
  requestDeserialize(bytes: Buffer): unknown;
  responseSerialize(value: unknown): Buffer;
  responseDeserialize(bytes: Buffer): unknown;
}

const load = (file: string): PackageDefinition => loadSync(file, { ...PROTO_LOADER_OPTIONS, includeDirs: [protoDir()] });

/** proto-loader's own codecs (the reference) and ours, for one method. */
function codecs(file: string, service: string, method: string): { reference: Codec; fast: Codec } {
  const reference = (load(file)[service] as unknown as Record<string, Codec>)[method] as Codec;
  const fast = (withPackedUint32Codecs(load(file))[service] as unknown as Record<string, Codec>)[method] as Codec;
  return { reference, fast };
}

const TOKENIZER = 'tokenization.TokenizationService';

function varint(value: number): number[] {
  const out: number[] = [];
  let v = value >>> 0;
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  out.push(v);
  return out;
}

/** Field `number` as one unpacked record per value (what a proto2 writer sends). */
const unpacked = (number: number, values: number[]): number[] => values.flatMap((v) => [...varint(number << 3), ...varint(v)]);

const EDGES = [0, 1, 127, 128, 16_383, 16_384, 151_643, 2_097_151, 2_097_152, 268_435_455, 268_435_456, 4_294_967_295];

describe('packed uint32 codecs', () => {
  const random = seededRandom(7);
  const ids = (n: number): number[] => Array.from({ length: n }, (_, i) => (i % 17 === 0 ? (EDGES[i % EDGES.length] as number) : Math.floor(random() * 152_000)));

  it('finds the repeated uint32 fields of a message type', () => {
    const definition = load(TOKENIZER_PROTO);
    const type = (name: string) => definition[`tokenization.${name}`] as Parameters<typeof packedUint32Fields>[0];
    expect(packedUint32Fields(type('TokenizeResponse'))).toEqual([
      { name: 'input_ids', number: 1 },
      { name: 'offset_pairs', number: 4 },
    ]);
    expect(packedUint32Fields(type('RenderCompletionResponse'))).toEqual([{ name: 'token_ids', number: 2 }]);
    expect(packedUint32Fields(type('RenderCompletionRequest'))).toEqual([]);
  });

  it.each([
    ['RenderCompletion', { request_id: 'r-1', token_ids: [], success: true, error_message: '' }],
    ['RenderCompletion', { request_id: 'r-2', token_ids: EDGES, success: true, error_message: '' }],
    ['RenderCompletion', { request_id: '', token_ids: 'big', success: false, error_message: 'bad' }],
    // A payload whose length takes 2 bytes (the writer reserves 5 and moves the varints left).
    ['RenderCompletion', { request_id: 'r-3', token_ids: 'medium', success: true, error_message: '' }],
    ['RenderChatCompletion', { request_id: 'c', token_ids: 'big', features: { mm_hashes: { image: { values: ['a'] } }, mm_placeholders: { image: { ranges: [{ offset: 3, length: 9 }] } } }, success: true, error_message: '' }],
    ['Tokenize', { input_ids: 'big', success: true, error_message: '', offset_pairs: 'big' }],
  ])('%s answers: bytes of either codec read the same through the other', (method, shape) => {
    const { reference, fast } = codecs(TOKENIZER_PROTO, TOKENIZER, method);
    const message = Object.fromEntries(Object.entries(shape).map(([k, v]) => [k, v === 'big' ? ids(7_010) : v === 'medium' ? ids(100) : v]));
    const expected = reference.responseDeserialize(reference.responseSerialize(message));
    expect(reference.responseDeserialize(fast.responseSerialize(message))).toEqual(expected);
    expect(fast.responseDeserialize(reference.responseSerialize(message))).toEqual(expected);
    expect(fast.responseDeserialize(fast.responseSerialize(message))).toEqual(expected);
  });

  it('Score requests: token ids among strings, repeated strings and a uint64-free message', () => {
    const { reference, fast } = codecs(SCORER_PROTO, 'kvr.scoring.v1.Scorer', 'Score');
    const message = { model: 'Qwen/Qwen3-32B', lora_name: '', pods: ['a:1', 'b:2'], token_ids: ids(300), cache_salt: 's', request_id: 'x', scorer: '', request_keys: ['18446744073709551615', '1'] };
    const expected = reference.requestDeserialize(reference.requestSerialize(message));
    expect(reference.requestDeserialize(fast.requestSerialize(message))).toEqual(expected);
    expect(fast.requestDeserialize(reference.requestSerialize(message))).toEqual(expected);
    // Responses have no such field: proto-loader's codecs stay.
    expect(fast.responseSerialize).toBe(fast.responseSerialize);
    expect(packedUint32Fields((load(SCORER_PROTO)['kvr.scoring.v1.ScoreResponse'] as Parameters<typeof packedUint32Fields>[0]))).toEqual([]);
  });

  it('converts elements as protobufjs does (>>> 0)', () => {
    const { reference, fast } = codecs(TOKENIZER_PROTO, TOKENIZER, 'RenderCompletion');
    const message = { token_ids: [-1, 1.7, '5', 2 ** 32 + 3, Number.NaN] };
    expect(reference.responseDeserialize(fast.responseSerialize(message))).toEqual(reference.responseDeserialize(reference.responseSerialize(message)));
  });

  it('leaves a field that is not an array to protobufjs, errors included', () => {
    const { reference, fast } = codecs(TOKENIZER_PROTO, TOKENIZER, 'RenderCompletion');
    expect(fast.responseSerialize({ request_id: 'x' })).toEqual(reference.responseSerialize({ request_id: 'x' }));
    expect(() => fast.responseSerialize({ token_ids: 'nope' })).toThrow(/array expected/);
  });

  it('reads unpacked records, several records of one field, and skips unknown fields of every wire type', () => {
    const { reference, fast } = codecs(TOKENIZER_PROTO, TOKENIZER, 'RenderCompletion');
    const requestId = [...varint((1 << 3) | 2), 2, 0x68, 0x69]; // request_id = "hi"
    const bytes = Buffer.from([
      ...unpacked(2, [5, 300, 4_294_967_295]),
      ...requestId,
      ...encodePackedUint32(2, [7, 151_643]),
      ...varint((99 << 3) | 0), ...varint(12_345), // unknown varint
      ...varint((98 << 3) | 1), 1, 2, 3, 4, 5, 6, 7, 8, // unknown fixed64
      ...varint((97 << 3) | 5), 1, 2, 3, 4, // unknown fixed32
      ...varint((96 << 3) | 2), 3, 0x61, 0x62, 0x63, // unknown bytes
      ...unpacked(2, [9]),
    ]);
    const expected = reference.responseDeserialize(bytes) as { token_ids: number[]; request_id: string };
    expect(expected.token_ids).toEqual([5, 300, 4_294_967_295, 7, 151_643, 9]);
    expect(fast.responseDeserialize(bytes)).toEqual(expected);
  });

  it('keeps the low 32 bits of a 10-byte varint (a negative int32 written into the field)', () => {
    const { reference, fast } = codecs(TOKENIZER_PROTO, TOKENIZER, 'RenderCompletion');
    const minusOne = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01];
    const bytes = Buffer.from([...varint((2 << 3) | 2), minusOne.length + 2, ...minusOne, 0x96, 0x01]);
    expect(fast.responseDeserialize(bytes)).toEqual(reference.responseDeserialize(bytes));
    expect((fast.responseDeserialize(bytes) as { token_ids: number[] }).token_ids).toEqual([4_294_967_295, 150]);
  });

  it('refuses truncated messages', () => {
    const { reference, fast } = codecs(TOKENIZER_PROTO, TOKENIZER, 'RenderCompletion');
    const whole = reference.responseSerialize({ request_id: 'abc', token_ids: ids(50) }); // 0a 03 'abc' 12 <len> ids…
    // Cut after the ids' tag, inside their length, inside the ids: protobufjs refuses these too.
    for (const cut of [6, 7, whole.length - 1]) {
      const bytes = whole.subarray(0, cut);
      expect(() => reference.responseDeserialize(bytes)).toThrow(RangeError);
      expect(() => fast.responseDeserialize(bytes)).toThrow(RangeError);
    }
    // A cut string: protobufjs reads what is there; these codecs check every record's length.
    expect(() => fast.responseDeserialize(whole.subarray(0, 3))).toThrow(RangeError);
  });

  it('installs itself only where a message has such a field', () => {
    const plain = load(TOKENIZER_PROTO);
    const fast = withPackedUint32Codecs(load(TOKENIZER_PROTO));
    const method = (d: PackageDefinition, name: string) => (d[TOKENIZER] as unknown as Record<string, Codec>)[name] as Codec;
    // InitializeTokenizer has no repeated uint32: the serializer is proto-loader's (same source).
    expect(method(fast, 'InitializeTokenizer').responseSerialize.toString()).toBe(method(plain, 'InitializeTokenizer').responseSerialize.toString());
    expect(method(fast, 'RenderCompletion').responseSerialize.toString()).not.toBe(method(plain, 'RenderCompletion').responseSerialize.toString());
  });
});
