/**
 * The ready line: when an app is ready to serve, it prints exactly one JSON line to stdout,
 *
 *   {"event":"ready","app":"<name>","listen":{"http":"http://127.0.0.1:41234", ...}}
 *
 * with the ACTUAL addresses it listens on (ports may be configured as 0). Scripts and tests
 * wait for this line instead of guessing ports or sleeping. Logs go to stderr, so stdout carries
 * nothing else before it.
 */
export interface ReadyLine {
  event: 'ready';
  app: string;
  listen: Record<string, unknown>;
}

export function formatReadyLine(app: string, listen: Record<string, unknown>): string {
  const line: ReadyLine = { event: 'ready', app, listen };
  return `${JSON.stringify(line)}\n`;
}

export function announceReady(app: string, listen: Record<string, unknown>, out: NodeJS.WritableStream = process.stdout): void {
  out.write(formatReadyLine(app, listen));
}

/** Parses one stdout line; undefined when it is not a ready line. */
export function parseReadyLine(line: string): ReadyLine | undefined {
  const trimmed = line.trim();
  if (!trimmed.startsWith('{')) return undefined;
  try {
    const value = JSON.parse(trimmed) as Partial<ReadyLine>;
    if (value.event === 'ready' && typeof value.app === 'string' && typeof value.listen === 'object' && value.listen !== null) {
      return value as ReadyLine;
    }
  } catch {
    // not JSON: an ordinary output line
  }
  return undefined;
}
