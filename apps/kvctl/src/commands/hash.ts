import { BlockKeyError, createBlockKeyer, DEFAULT_BLOCK_SIZE, toUint64Decimal } from '@kvr/block-keys';
import { UsageError, type CommandSpec, type ParsedCommand } from '@kvr/runtime';
import type { CommandIo } from '../io';

export const hashSpec: CommandSpec = {
  name: 'kvctl hash',
  summary: 'Prints the request keys (block keys) of a token sequence, exactly as the indexer and gateway compute them.',
  options: {
    model: { type: 'string', description: 'Model (or LoRA adapter) name that roots the key chain', placeholder: 'NAME' },
    tokens: { type: 'string', description: 'Comma-separated token ids', placeholder: 'IDS' },
    'block-size': { type: 'string', description: `Tokens per block (default ${DEFAULT_BLOCK_SIZE}; must equal the engine's --block-size)`, placeholder: 'N' },
    'hash-seed': { type: 'string', description: "Hash seed (default empty, llm-d's default)", placeholder: 'SEED' },
    'cache-salt': { type: 'string', description: "Request's cache_salt, folded into block 0", placeholder: 'SALT' },
    json: { type: 'boolean', description: 'Print one JSON object with root key and keys instead of one key per line' },
  },
  details: [
    'Keys are unsigned 64-bit decimals, one per full block; a trailing partial block has no key.',
    'Example: kvctl hash --model Qwen/Qwen3-32B --block-size 4 --tokens 1,2,3,4,5,6,7,8',
  ].join('\n'),
};

export async function runHash(parsed: ParsedCommand, io: CommandIo): Promise<number> {
  const model = parsed.values['model'];
  const tokensText = parsed.values['tokens'];
  if (typeof model !== 'string' || model === '') throw new UsageError('--model is required');
  if (typeof tokensText !== 'string') throw new UsageError('--tokens is required (comma-separated token ids)');
  const tokens = tokensText.trim() === '' ? [] : tokensText.split(',').map((part, index) => {
    const text = part.trim();
    if (!/^\d+$/.test(text)) throw new UsageError(`--tokens: item ${index + 1} ("${part}") is not a non-negative integer`);
    return Number(text);
  });
  const blockSizeText = parsed.values['block-size'];
  const blockSize = typeof blockSizeText === 'string' ? Number(blockSizeText) : DEFAULT_BLOCK_SIZE;
  try {
    const keyer = createBlockKeyer({
      modelName: model,
      blockSize,
      hashSeed: typeof parsed.values['hash-seed'] === 'string' ? parsed.values['hash-seed'] : '',
    });
    const cacheSalt = typeof parsed.values['cache-salt'] === 'string' ? parsed.values['cache-salt'] : undefined;
    const keys = keyer.keysForTokens(tokens, cacheSalt === undefined ? {} : { cacheSalt });
    if (parsed.values['json'] === true) {
      io.stdout.write(`${JSON.stringify({ model, blockSize, rootKey: toUint64Decimal(keyer.rootKey), keys: keys.map(toUint64Decimal) })}\n`);
    } else {
      for (const key of keys) io.stdout.write(`${toUint64Decimal(key)}\n`);
    }
    return 0;
  } catch (err) {
    if (err instanceof BlockKeyError) throw new UsageError(err.message);
    throw err;
  }
}
