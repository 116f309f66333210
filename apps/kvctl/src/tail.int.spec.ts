// real: kvctl tail as a child process; a Python publisher (pyzmq + msgpack, Debian packages)
// that encodes batches like vLLM's msgspec, over real ZeroMQ on loopback; mock: nothing.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { runCli } from '@kvr/testing';

const PYTHON = '/usr/bin/python3';
const PUBLISHER = join(__dirname, '__fixtures__', 'vllm_publisher.py');

/** Starts the publisher and resolves with its port once it has bound. */
function startPublisher(topic: string): Promise<{ port: number; child: ChildProcessWithoutNullStreams; stderr: () => string }> {
  if (!existsSync(PYTHON)) throw new Error(`${PYTHON} not found: apt-get install python3 python3-zmq python3-msgpack`);
  const child = spawn(PYTHON, [PUBLISHER, topic]);
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.once('line', (line) => resolve({ port: Number(line), child, stderr: () => stderr }));
    child.once('exit', (code) => reject(new Error(`publisher exited (${code}) before binding: ${stderr}`)));
  });
}

/** uint64 of the last 8 bytes of a digest, big-endian: how vLLM turns bytes hashes into ints. */
function lastEightBytes(bytes: number[]): string {
  return Buffer.from(bytes.slice(-8)).readBigUInt64BE().toString();
}

describe('kvctl tail', () => {
  it('decodes a vLLM-style publisher (both encodings, int and bytes hashes) into one JSON line per event', async () => {
    const topic = 'kv@10.0.0.7:8000@Qwen/Qwen3-32B';
    const publisher = await startPublisher(topic);
    try {
      const result = await runCli('kvctl', ['tail', '--zmq', `tcp://127.0.0.1:${publisher.port}`, '--json', '--count', '7', '--timeout', '20000']);
      expect(publisher.stderr()).toBe('');
      expect(result.code).toBe(0);
      const lines = result.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
      const pod = { pod: '10.0.0.7:8000', model: 'Qwen/Qwen3-32B' };
      const digestA = Array.from({ length: 32 }, (_, i) => i);
      const digestB = [...new Array<number>(24).fill(0xff), 0x80, 0, 0, 0, 0, 0, 0, 5];
      expect(lines).toEqual([
        {
          ...pod, seq: '0', type: 'BlockStored',
          blockHashes: ['18446744073709551615', '9223372036854775813', '7'], parentBlockHash: null,
          tokenIds: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], blockSize: 4, medium: 'GPU', loraName: null,
        },
        {
          ...pod, seq: '0', type: 'BlockStored',
          // -1 is vLLM's signed view of 2^64-1: cast as two's complement.
          blockHashes: ['18446744073709551615'], parentBlockHash: '7',
          tokenIds: [101, 102, 103, 104], blockSize: 4, medium: null, loraName: null,
        },
        { ...pod, seq: '1', type: 'BlockRemoved', blockHashes: ['9223372036854775813'], medium: 'GPU' },
        {
          ...pod, seq: '1', type: 'BlockStored',
          blockHashes: [lastEightBytes(digestA), lastEightBytes(digestB)], parentBlockHash: lastEightBytes(digestA),
          tokenIds: [9, 8, 7, 6, 5, 4, 3, 2], blockSize: 4, medium: 'CPU', loraName: 'adapter-1',
        },
        { ...pod, seq: '2', type: 'AllBlocksCleared' },
        { ...pod, seq: '2', type: 'AllBlocksCleared' },
        { ...pod, seq: '4', type: 'AllBlocksCleared' },
      ]);
      expect(lastEightBytes(digestB)).toBe('9223372036854775813');
      expect(result.stderr).toContain('skipped unknown event type "SomethingNew" at index 1');
      expect(result.stderr).toMatch(/skipped a message that does not decode \(msgpack\)/);
    } finally {
      publisher.child.kill();
    }
  });

  it('prints readable lines without --json', async () => {
    const publisher = await startPublisher('kv@10.0.0.8:8000@m');
    try {
      const result = await runCli('kvctl', ['tail', '--zmq', `tcp://127.0.0.1:${publisher.port}`, '--count', '1', '--timeout', '20000']);
      expect(result.code).toBe(0);
      expect(result.stdout).toBe(
        'seq=0 pod=10.0.0.8:8000 model=m BlockStored blocks=3 hashes=18446744073709551615,9223372036854775813,7 parent=- tokens=12 blockSize=4 medium=GPU\n',
      );
    } finally {
      publisher.child.kill();
    }
  });

  it('exits 1 when --count is not reached within --timeout, and 2 without --zmq', async () => {
    const silent = await runCli('kvctl', ['tail', '--zmq', 'tcp://127.0.0.1:9', '--count', '1', '--timeout', '300']);
    expect(silent.code).toBe(1);
    expect(silent.stderr).toContain('timed out after 300 ms with 0 of 1 events');
    const usage = await runCli('kvctl', ['tail']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('--zmq is required');
  });
});
