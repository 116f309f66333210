// Child process of socket.bench.ts: the transport floors.
// - The tokenizer service's own gRPC server (startTokenizerServer: the same handlers, metrics and
//   packed-ids serializer) over a unix socket, with a backend that does no tokenization work and
//   answers every render with one stored array of `ids` token ids, as many as the real answer
//   carries; a render of an empty conversation answers one id (the fixed cost of any call). What
//   a call costs here is what any call of that size costs on this machine: client, HTTP/2, both
//   processes' serialization and collections.
// - A bare `node:http2` server on a second socket that reads a request body and answers
//   `answerBytes` stored bytes: the same exchange without gRPC (no framing, codecs, deadlines or
//   status trailers), what HTTP/2 alone costs in Node on this machine.
// argv: grpcSocketPath ids http2SocketPath answerBytes. Prints "ready" once both listen; exits
// when stdin closes.
import http2 from 'node:http2';
import { Registry } from 'prom-client';
import { createLogger } from '@kvr/telemetry';
import { startTokenizerServer, type TokenizerBackend } from '../src/index';

/** The bare HTTP/2 exchange: read the whole body, answer the stored bytes. */
function startBareHttp2(socketPath: string, answer: Buffer): Promise<http2.Http2Server> {
  const server = http2.createServer();
  server.on('stream', (stream) => {
    stream.on('data', () => undefined);
    stream.once('end', () => {
      stream.respond({ ':status': 200, 'content-type': 'application/octet-stream' });
      stream.end(answer);
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve(server));
  });
}

async function main(): Promise<void> {
  const [socketPath, idsText, http2SocketPath, answerBytesText] = process.argv.slice(2) as [string, string, string, string];
  const ids = Array.from({ length: Number(idsText) }, (_, i) => (i * 7_919) % 151_643);
  const oneId = [ids[0] ?? 0];
  const backend: TokenizerBackend = {
    description: 'bench floor (no work)',
    initialize: () => Promise.resolve(),
    tokenize: () => Promise.resolve({ ids }),
    renderCompletion: () => Promise.resolve(ids),
    renderChat: (_model, request) => Promise.resolve({ tokenIds: request.messages.length === 0 ? oneId : ids }),
    close: () => Promise.resolve(),
  };
  const server = await startTokenizerServer({ backend, socketPath, maxMessageBytes: 100 * 1024 * 1024, logger: createLogger({ app: 'bench-floor', level: 'warn' }), registry: new Registry() });
  const bare = await startBareHttp2(http2SocketPath, Buffer.alloc(Number(answerBytesText), 0x5a));
  process.stdout.write('ready\n');
  process.stdin.resume();
  process.stdin.once('end', () => {
    bare.close();
    void server.stop(0).then(() => process.exit(0));
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});
