// Child process of socket.bench.ts: the transport floor. The tokenizer service's own gRPC server
// (startTokenizerServer: the same handlers, metrics and packed-ids serializer) over a unix socket,
// with a backend that does no tokenization work and answers every render with one stored array of
// `ids` token ids, as many as the real answer carries. What a call costs here is what any call of
// that size costs on this machine: client, HTTP/2, both processes' serialization and collections.
// argv: socketPath ids. Prints "ready" once listening; exits when stdin closes.
import { Registry } from 'prom-client';
import { createLogger } from '@kvr/telemetry';
import { startTokenizerServer, type TokenizerBackend } from '../src/index';

async function main(): Promise<void> {
  const [socketPath, idsText] = process.argv.slice(2) as [string, string];
  const ids = Array.from({ length: Number(idsText) }, (_, i) => (i * 7_919) % 151_643);
  const backend: TokenizerBackend = {
    description: 'bench floor (no work)',
    initialize: () => Promise.resolve(),
    tokenize: () => Promise.resolve({ ids }),
    renderCompletion: () => Promise.resolve(ids),
    renderChat: () => Promise.resolve({ tokenIds: ids }),
    close: () => Promise.resolve(),
  };
  const server = await startTokenizerServer({ backend, socketPath, maxMessageBytes: 100 * 1024 * 1024, logger: createLogger({ app: 'bench-floor', level: 'warn' }), registry: new Registry() });
  process.stdout.write('ready\n');
  process.stdin.resume();
  process.stdin.once('end', () => void server.stop(0).then(() => process.exit(0)));
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});
