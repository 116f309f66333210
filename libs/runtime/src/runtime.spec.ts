import { EventEmitter } from 'node:events';
import { request } from 'node:http';
import { PassThrough } from 'node:stream';
import { ConfigError } from '@kvr/config';
import { createLogger, createMetricsRegistry } from '@kvr/telemetry';
import {
  announceReady,
  EXIT_CONFIG,
  EXIT_FAILURE,
  EXIT_OK,
  helpText,
  parseCommand,
  parseReadyLine,
  runApp,
  startAdminServer,
  UsageError,
  type CommandSpec,
} from './index';

const silent = createLogger({ app: 'unit', level: 'silent' });

function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    request(url, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    })
      .on('error', reject)
      .end();
  });
}

describe('ready line', () => {
  it('is one JSON line that parses back', () => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (chunk: Buffer) => (text += chunk.toString()));
    announceReady('indexer', { grpc: '127.0.0.1:5000', http: 'http://127.0.0.1:5001' }, out);
    expect(text.endsWith('\n')).toBe(true);
    expect(text.trim().split('\n')).toHaveLength(1);
    expect(parseReadyLine(text)).toEqual({ event: 'ready', app: 'indexer', listen: { grpc: '127.0.0.1:5000', http: 'http://127.0.0.1:5001' } });
    expect(parseReadyLine('{"event":"other"}')).toBeUndefined();
    expect(parseReadyLine('plain text')).toBeUndefined();
  });
});

describe('runApp', () => {
  it('stops gracefully on SIGTERM and exits 0', async () => {
    const signals = new EventEmitter();
    const exits: number[] = [];
    let stopped = 0;
    await runApp({ name: 'unit', logger: silent, signals, exit: (code) => exits.push(code), start: async () => ({ stop: async () => void stopped++ }) });
    signals.emit('SIGTERM');
    await new Promise((resolve) => setImmediate(resolve));
    expect(stopped).toBe(1);
    expect(exits).toEqual([EXIT_OK]);
  });

  it('exits at once on a second signal', async () => {
    const signals = new EventEmitter();
    const exits: number[] = [];
    await runApp({ name: 'unit', logger: silent, signals, exit: (code) => exits.push(code), start: async () => ({ stop: () => new Promise<void>(() => undefined) }) });
    signals.emit('SIGINT');
    signals.emit('SIGINT');
    expect(exits).toEqual([EXIT_FAILURE]);
  });

  it('exits with EXIT_CONFIG on a ConfigError and lists every problem on stderr', async () => {
    const exits: number[] = [];
    const written: string[] = [];
    const spy = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    try {
      await runApp({
        name: 'unit',
        logger: silent,
        signals: new EventEmitter(),
        exit: (code) => exits.push(code),
        start: async () => {
          throw new ConfigError('unit', ['a: bad', 'b: worse']);
        },
      });
    } finally {
      spy.mockRestore();
    }
    expect(exits).toEqual([EXIT_CONFIG]);
    expect(written.join('')).toContain('  - a: bad\n  - b: worse');
  });

  it('exits with EXIT_FAILURE when start fails otherwise', async () => {
    const exits: number[] = [];
    await runApp({ name: 'unit', logger: silent, signals: new EventEmitter(), exit: (code) => exits.push(code), start: () => Promise.reject(new Error('port in use')) });
    expect(exits).toEqual([EXIT_FAILURE]);
  });
});

describe('admin server', () => {
  it('serves /health, /ready and /metrics on a free port', async () => {
    let ready = false;
    const server = await startAdminServer({
      host: '127.0.0.1',
      port: 0,
      registry: createMetricsRegistry({ app: 'unit', processMetrics: false }),
      ready: () => ({ ok: ready, details: { nats: ready ? 'connected' : 'connecting' } }),
    });
    try {
      expect(server.port).toBeGreaterThan(0);
      expect(await get(`${server.url}/health`)).toEqual({ status: 200, body: '{"status":"ok"}' });
      expect(await get(`${server.url}/ready`)).toEqual({ status: 503, body: '{"status":"unavailable","details":{"nats":"connecting"}}' });
      ready = true;
      expect((await get(`${server.url}/ready`)).status).toBe(200);
      expect((await get(`${server.url}/metrics`)).status).toBe(200);
      expect((await get(`${server.url}/nope`)).status).toBe(404);
    } finally {
      await server.close();
    }
  });
});

describe('command-line parsing', () => {
  const spec: CommandSpec = {
    name: 'kvctl demo',
    summary: 'A demo command.',
    positionals: [{ name: 'target', description: 'What to act on' }],
    options: { nats: { type: 'string', description: 'NATS URL', placeholder: 'URL' }, json: { type: 'boolean', description: 'JSON output' } },
  };

  it('parses flags and positionals', () => {
    expect(parseCommand(spec, ['x', '--nats', 'nats://h:1', '--json'])).toEqual({ values: { nats: 'nats://h:1', json: true }, positionals: ['x'], help: false });
    expect(parseCommand(spec, ['--help']).help).toBe(true);
  });

  it('turns unknown flags and missing arguments into usage errors', () => {
    expect(() => parseCommand(spec, ['x', '--natz', 'y'])).toThrow(UsageError);
    expect(() => parseCommand(spec, [])).toThrow(/missing argument <target>/);
    expect(() => parseCommand(spec, ['a', 'b'])).toThrow(/unexpected argument "b"/);
  });

  it('writes help with every option', () => {
    const text = helpText(spec);
    expect(text).toContain('Usage: kvctl demo <target> [options]');
    expect(text).toMatch(/--nats URL\s+NATS URL/);
    expect(text).toMatch(/-h, --help\s+Show this help/);
  });
});

describe('runApp during start-up', () => {
  it('stops cleanly when the signal arrives while the app is still starting', async () => {
    const signals = new EventEmitter();
    const exits: number[] = [];
    let stopped = 0;
    let finishStart: () => void = () => undefined;
    const started = new Promise<void>((resolve) => (finishStart = resolve));
    const run = runApp({
      name: 'unit',
      logger: silent,
      signals,
      exit: (code) => exits.push(code),
      start: async () => {
        await started;
        return { stop: async () => void stopped++ };
      },
    });
    signals.emit('SIGTERM');
    expect(exits).toEqual([]);
    finishStart();
    await run;
    await new Promise((resolve) => setImmediate(resolve));
    expect(stopped).toBe(1);
    expect(exits).toEqual([EXIT_OK]);
  });
});
