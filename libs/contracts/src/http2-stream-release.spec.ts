import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { releaseFinishedHttp2Streams } from './http2-stream-release';

const nextImmediate = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('releaseFinishedHttp2Streams', () => {
  let server: http2.Http2Server;
  let serverStreams: http2.ServerHttp2Stream[];
  let port: number;

  beforeAll(async () => {
    releaseFinishedHttp2Streams();
    releaseFinishedHttp2Streams(); // idempotent: wraps once
    serverStreams = [];
    server = http2.createServer();
    server.on('stream', (stream) => {
      serverStreams.push(stream);
      stream.on('data', () => undefined);
      stream.on('end', () => {
        stream.respond({ ':status': 200 });
        stream.end('answer');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('drops the listeners of client and server streams once they closed, after every close listener ran', async () => {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    try {
      const stream = session.request({ ':method': 'POST', ':path': '/' });
      const seen: string[] = [];
      let body = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => (body += chunk));
      stream.on('close', () => seen.push('close listener ran'));
      stream.end('question');
      await new Promise<void>((resolve) => stream.once('close', () => resolve()));
      // Still attached while close is being delivered…
      expect(stream.listenerCount('data')).toBeGreaterThan(0);
      await nextImmediate();
      await nextImmediate();
      // …released afterwards: nothing reachable from the stream holds the call any more.
      expect(body).toBe('answer');
      expect(seen).toEqual(['close listener ran']);
      expect(stream.listenerCount('data')).toBe(0);
      expect(stream.listenerCount('close')).toBe(0);
      const served = serverStreams.at(-1)!;
      expect(served.closed).toBe(true);
      expect(served.listenerCount('data')).toBe(0);
      expect(served.listenerCount('end')).toBe(0);
      // A late error on a released stream is ignored rather than thrown as unhandled.
      expect(() => stream.emit('error', new Error('late'))).not.toThrow();
    } finally {
      session.close();
    }
  });
});
