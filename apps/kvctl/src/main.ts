import { ConfigError } from '@kvr/config';
import { EXIT_CONFIG, EXIT_FAILURE, helpText, parseCommand, UsageError, type CommandSpec, type ParsedCommand } from '@kvr/runtime';
import { explainSpec, runExplain } from './commands/explain';
import { hashSpec, runHash } from './commands/hash';
import { dumpSpec, lookupSpec, runDump, runLookup } from './commands/lookup';
import { reindexSpec, runReindex, runSnapshots, snapshotsSpec } from './commands/reindex';
import { runStatus, statusSpec } from './commands/status';
import { runStream, streamSpec } from './commands/stream';
import { runTail, tailSpec } from './commands/tail';
import { processIo, type CommandIo } from './io';

interface Command {
  spec: CommandSpec;
  run(parsed: ParsedCommand, io: CommandIo): Promise<number>;
}

/** Every kvctl command. */
const COMMANDS: Record<string, Command> = {
  status: { spec: statusSpec, run: runStatus },
  hash: { spec: hashSpec, run: runHash },
  tail: { spec: tailSpec, run: runTail },
  stream: { spec: streamSpec, run: runStream },
  lookup: { spec: lookupSpec, run: runLookup },
  dump: { spec: dumpSpec, run: runDump },
  explain: { spec: explainSpec, run: runExplain },
  reindex: { spec: reindexSpec, run: runReindex },
  snapshots: { spec: snapshotsSpec, run: runSnapshots },
};

function topLevelHelp(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((name) => name.length)) + 2;
  const lines = [
    'Usage: kvctl <command> [options]',
    '',
    'Operator CLI for the prefix-cache router: inspect the event stream, the block index and routing decisions.',
    '',
    'Commands:',
    ...Object.entries(COMMANDS).map(([name, command]) => `  ${name.padEnd(width)}${command.spec.summary}`),
    '',
    'Addresses come from --nats/--redis/--indexer/--gateway, else KVR_NATS/KVR_REDIS/KVR_INDEXER/KVR_GATEWAY,',
    'else --config FILE (or KVR_CONFIG), else the local defaults.',
    "Run 'kvctl <command> --help' for a command's options.",
  ];
  return `${lines.join('\n')}\n`;
}

/** Entry point, called by tools/bin/kvctl.js with argv after the program name; returns the exit code. */
export async function main(argv: readonly string[], io: CommandIo = processIo()): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(topLevelHelp());
    return name === undefined ? EXIT_CONFIG : 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    io.stderr.write(`kvctl: unknown command "${name}"\n\n${topLevelHelp()}`);
    return EXIT_CONFIG;
  }
  try {
    const parsed = parseCommand(command.spec, rest);
    if (parsed.help) {
      io.stdout.write(helpText(command.spec));
      return 0;
    }
    return await command.run(parsed, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr.write(`${command.spec.name}: ${err.message}\n\n${helpText(command.spec)}`);
      return EXIT_CONFIG;
    }
    if (err instanceof ConfigError) {
      io.stderr.write(`${err.message}\n`);
      return EXIT_CONFIG;
    }
    io.stderr.write(`${command.spec.name}: ${err instanceof Error ? err.message : String(err)}\n`);
    return EXIT_FAILURE;
  }
}
