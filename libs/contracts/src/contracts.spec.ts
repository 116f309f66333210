import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import {
  decodeSubjectToken,
  encodeSubjectToken,
  eventsSubject,
  messageId,
  parseEventsSubject,
  partitionFilter,
  partitionForPod,
  PROTO_LOADER_OPTIONS,
  protoDir,
  redisKeys,
  decodeKey,
  encodeKey,
  engineBucketOf,
  ENGINE_BUCKETS,
  REDIS_LAYOUT_VERSION,
  SubjectError,
  SubjectTokenError,
  TOKENIZER_PROTO,
  SCORER_PROTO,
  type TokenizerProtoGrpcType,
  type ScorerProtoGrpcType,
} from './index';
import { seededRandom } from '@kvr/testing';

describe('subject token codec', () => {
  it.each([
    ['10.0.0.1:8000', '10~2E0~2E0~2E1:8000'],
    ['Qwen/Qwen3-32B', 'Qwen/Qwen3-32B'],
    ['org/model:v1.5', 'org/model:v1~2E5'],
    ['a b*c>d~e', 'a~20b~2Ac~3Ed~7Ee'],
    ['', '~'],
    ['模型', '~E6~A8~A1~E5~9E~8B'],
  ])('encodes %j as %j and back', (plain, token) => {
    expect(encodeSubjectToken(plain)).toBe(token);
    expect(decodeSubjectToken(token)).toBe(plain);
  });

  it('round-trips random strings and never emits separators, wildcards or spaces', () => {
    const random = seededRandom(7);
    const alphabet = ['a', 'Z', '9', '.', '*', '>', ' ', '\t', '~', '/', ':', '@', '-', '_', 'é', '😀', '\u0000'];
    for (let i = 0; i < 2000; i++) {
      const length = Math.floor(random() * 12);
      let plain = '';
      for (let j = 0; j < length; j++) plain += alphabet[Math.floor(random() * alphabet.length)];
      const token = encodeSubjectToken(plain);
      expect(token).not.toMatch(/[.*>\s]/);
      expect(token.length).toBeGreaterThan(0);
      expect(decodeSubjectToken(token)).toBe(plain);
    }
  });

  it('rejects malformed tokens', () => {
    expect(() => decodeSubjectToken('a~2')).toThrow(SubjectTokenError);
    expect(() => decodeSubjectToken('a~zz')).toThrow(SubjectTokenError);
    expect(() => decodeSubjectToken('a.b')).toThrow(SubjectTokenError);
  });
});

describe('events subjects', () => {
  it('builds and parses kv.events.<partition>.<model>.<pod>', () => {
    const subject = eventsSubject({ partition: 3, model: 'meta-llama/Llama-3.1-8B', podId: '10.1.2.3:8000' });
    expect(subject).toBe('kv.events.3.meta-llama/Llama-3~2E1-8B.10~2E1~2E2~2E3:8000');
    expect(subject.split('.')).toHaveLength(5);
    expect(parseEventsSubject(subject)).toEqual({ partition: 3, model: 'meta-llama/Llama-3.1-8B', podId: '10.1.2.3:8000' });
    expect(partitionFilter(3)).toBe('kv.events.3.>');
  });

  it('rejects subjects of the wrong shape and bad partitions', () => {
    expect(() => parseEventsSubject('kv.events.1.model')).toThrow(SubjectError);
    expect(() => parseEventsSubject('kv.other.1.m.p')).toThrow(SubjectError);
    expect(() => parseEventsSubject('kv.events.x.m.p')).toThrow(SubjectError);
    expect(() => eventsSubject({ partition: -1, model: 'm', podId: 'p' })).toThrow(SubjectError);
  });

  it('assigns a pod to the same partition every time, spread across partitions', () => {
    // Pinned: collector replicas and indexers built from different commits must agree.
    expect(partitionForPod('10.0.0.1:8000', 8)).toBe(partitionForPod('10.0.0.1:8000', 8));
    expect(partitionForPod('', 1)).toBe(0);
    const counts = new Array<number>(4).fill(0);
    for (let i = 0; i < 400; i++) counts[partitionForPod(`10.0.${Math.floor(i / 250)}.${i % 250}:8000`, 4)]! += 1;
    for (const count of counts) expect(count).toBeGreaterThan(60);
    expect(() => partitionForPod('p', 0)).toThrow(SubjectError);
  });

  it('pins the partition function (FNV-1a 32) against known values', () => {
    // FNV-1a 32 of "a" is 0xe40c292c; of "foobar" is 0xbf9cf968.
    expect(partitionForPod('a', 0x100000000 - 1)).toBe(0xe40c292c % (0x100000000 - 1));
    expect(partitionForPod('foobar', 1000)).toBe(0xbf9cf968 % 1000);
  });
});

describe('message ids and redis keys', () => {
  it('gives the same batch the same Nats-Msg-Id', () => {
    expect(messageId('batch', '10.0.0.1:8000', 2, 18446744073709551615n)).toBe('batch:10.0.0.1:8000:2:18446744073709551615');
    expect(messageId('reset', 'p', 0, 0n)).not.toBe(messageId('batch', 'p', 0, 0n));
  });

  it('stores keys as 8 big-endian bytes and buckets engine keys by the last one', () => {
    for (const key of [0n, 1n, 255n, 256n, 2n ** 63n, 2n ** 64n - 1n]) {
      const bytes = encodeKey(key);
      expect(bytes).toHaveLength(8);
      expect(decodeKey(bytes)).toBe(key);
      expect(engineBucketOf(key)).toBe(bytes[7]);
      expect(engineBucketOf(key)).toBeLessThan(ENGINE_BUCKETS);
    }
    const into = Buffer.alloc(24);
    encodeKey(7n, into, 8);
    expect(decodeKey(into, 8)).toBe(7n);
  });

  it('builds every redis key under the prefix', () => {
    const keys = redisKeys('fleet-a');
    expect(keys.hold('gpu')).toBe('fleet-a:hold:gpu');
    expect(keys.parseHold(keys.hold('disk'))).toBe('disk');
    expect(keys.holdPattern()).toBe('fleet-a:hold:*');
    expect(keys.multi('10.0.0.1:8000', 'gpu')).toBe('fleet-a:multi:{10.0.0.1:8000}:gpu');
    expect(keys.multiPattern('[fd00::1]:8000')).toBe('fleet-a:multi:{\\[fd00::1\\]:8000}:*');
    expect(keys.multiPattern()).toBe('fleet-a:multi:*');
    expect(keys.parseMulti(keys.multi('[fd00::1]:8000', 'disk'))).toEqual({ podId: '[fd00::1]:8000', tier: 'disk' });
    expect(keys.speculative('10.0.0.1:8000')).toBe('fleet-a:spec:{10.0.0.1:8000}');
    expect(keys.speculativePattern('[fd00::1]:8000')).toBe('fleet-a:spec:{\\[fd00::1\\]:8000}');
    expect(keys.parseSpeculative(keys.speculative('[fd00::1]:8000'))).toBe('[fd00::1]:8000');
    expect(keys.engineBucket('10.0.0.1:8000', 'gpu', 17)).toBe('fleet-a:eng:{10.0.0.1:8000}:gpu:17');
    expect(keys.parseEngine(keys.engineBucket('[fd00::1]:8000', 'cpu', 255))).toBe('[fd00::1]:8000');
    expect(keys.pod('10.0.0.1:8000')).toBe('fleet-a:pod:{10.0.0.1:8000}');
    expect([keys.slot(), keys.slotPod()]).toEqual(['fleet-a:slot', 'fleet-a:slotpod']);
    expect(keys.generation()).toBe(`fleet-a:gen:${REDIS_LAYOUT_VERSION}`);
    expect(redisKeys().pods()).toBe('kvr:pods');
  });
});

describe('protos', () => {
  it('serves and calls tokenization.TokenizationService over a unix socket with the upstream method paths', async () => {
    const definition = protoLoader.loadSync(TOKENIZER_PROTO, { ...PROTO_LOADER_OPTIONS, includeDirs: [protoDir()] });
    const loaded = grpc.loadPackageDefinition(definition) as unknown as TokenizerProtoGrpcType;
    const service = loaded.tokenization.TokenizationService.service;
    expect(Object.values(service).map((m) => m.path).sort()).toEqual([
      '/tokenization.TokenizationService/InitializeTokenizer',
      '/tokenization.TokenizationService/RenderChatCompletion',
      '/tokenization.TokenizationService/RenderChatTemplate',
      '/tokenization.TokenizationService/RenderCompletion',
      '/tokenization.TokenizationService/Tokenize',
    ]);
    const dir = mkdtempSync(join(tmpdir(), 'kvr-proto-'));
    const socket = `unix://${join(dir, 'tok.sock')}`;
    const server = new grpc.Server();
    const unimplemented = (_call: unknown, callback: grpc.sendUnaryData<never>): void => callback({ code: grpc.status.UNIMPLEMENTED });
    server.addService(service, {
      Tokenize: unimplemented,
      RenderChatTemplate: unimplemented,
      InitializeTokenizer: unimplemented,
      RenderChatCompletion: unimplemented,
      RenderCompletion: (call: grpc.ServerUnaryCall<{ prompt: string; model_name: string }, unknown>, callback: grpc.sendUnaryData<unknown>) =>
        callback(null, { request_id: 'r1', token_ids: [...call.request.prompt].map((c) => c.charCodeAt(0)), success: true }),
    });
    await new Promise<void>((resolve, reject) => server.bindAsync(socket, grpc.ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve())));
    const client = new loaded.tokenization.TokenizationService(socket, grpc.credentials.createInsecure());
    try {
      const reply = await new Promise<unknown>((resolve, reject) =>
        client.RenderCompletion({ model_name: 'm', prompt: 'hi' }, (err, value) => (err ? reject(err) : resolve(value))),
      );
      expect(reply).toEqual({ request_id: 'r1', token_ids: [104, 105], success: true, error_message: '' });
    } finally {
      client.close();
      server.forceShutdown();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('loads the kvr.scoring.v1 Scorer service', () => {
    const definition = protoLoader.loadSync(SCORER_PROTO, { ...PROTO_LOADER_OPTIONS, includeDirs: [protoDir()] });
    const loaded = grpc.loadPackageDefinition(definition) as unknown as ScorerProtoGrpcType;
    expect(loaded.kvr.scoring.v1.Scorer.service.Score.path).toBe('/kvr.scoring.v1.Scorer/Score');
  });
});
