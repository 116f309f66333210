import { BlockKeyError, createBlockKeyer, DEFAULT_BLOCK_SIZE, toUint64Decimal } from '@kvr/block-keys';
import { UsageError, type CommandSpec, type ParsedCommand } from '@kvr/runtime';
import { TokenizationError, TokenizerRegistry, type ChatMessage } from '@kvr/tokenization';
import type { CommandIo } from '../io';

export const hashSpec: CommandSpec = {
  name: 'kvctl hash',
  summary: 'Prints the request keys (block keys) of a token sequence, exactly as the indexer and gateway compute them.',
  options: {
    model: { type: 'string', description: 'Model (or LoRA adapter) name that roots the key chain', placeholder: 'NAME' },
    tokens: { type: 'string', description: 'Comma-separated token ids', placeholder: 'IDS' },
    text: { type: 'string', description: 'A completion prompt, tokenized as vLLM does for /v1/completions', placeholder: 'TEXT' },
    messages: { type: 'string', description: 'Chat messages as a JSON array, rendered with the chat template as vLLM does', placeholder: 'JSON' },
    'chat-template-kwargs': { type: 'string', description: 'With --messages: template variables as JSON, e.g. {"enable_thinking":false}', placeholder: 'JSON' },
    'model-dir': { type: 'string', description: "Directory with the model's tokenizer.json (default: built-in Qwen3 files or the HF cache)", placeholder: 'DIR' },
    'block-size': { type: 'string', description: `Tokens per block (default ${DEFAULT_BLOCK_SIZE}; must equal the engine's --block-size)`, placeholder: 'N' },
    'hash-seed': { type: 'string', description: "Hash seed (default empty, llm-d's default)", placeholder: 'SEED' },
    'cache-salt': { type: 'string', description: "Request's cache_salt, folded into block 0", placeholder: 'SALT' },
    json: { type: 'boolean', description: 'Print one JSON object (root key, keys, token ids) instead of one key per line' },
  },
  details: [
    'Keys are unsigned 64-bit decimals, one per full block; a trailing partial block has no key.',
    'Give exactly one of --tokens, --text or --messages.',
    'Example: kvctl hash --model Qwen/Qwen3-32B --block-size 4 --tokens 1,2,3,4,5,6,7,8',
    'Example: kvctl hash --model Qwen/Qwen3-32B --messages \'[{"role":"user","content":"hi"}]\'',
  ].join('\n'),
};

export async function runHash(parsed: ParsedCommand, io: CommandIo): Promise<number> {
  const model = parsed.values['model'];
  if (typeof model !== 'string' || model === '') throw new UsageError('--model is required');
  const tokens = await tokensOf(parsed, model);
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
      io.stdout.write(`${JSON.stringify({ model, blockSize, rootKey: toUint64Decimal(keyer.rootKey), keys: keys.map(toUint64Decimal), tokenIds: tokens })}\n`);
    } else {
      for (const key of keys) io.stdout.write(`${toUint64Decimal(key)}\n`);
    }
    return 0;
  } catch (err) {
    if (err instanceof BlockKeyError) throw new UsageError(err.message);
    throw err;
  }
}

/** Token ids from exactly one of --tokens, --text, --messages. */
export async function tokensOf(parsed: ParsedCommand, model: string): Promise<number[]> {
  const sources = (['tokens', 'text', 'messages'] as const).filter((name) => typeof parsed.values[name] === 'string');
  if (sources.length !== 1) throw new UsageError('give exactly one of --tokens, --text or --messages');
  const tokensText = parsed.values['tokens'];
  if (typeof tokensText === 'string') {
    return tokensText.trim() === '' ? [] : tokensText.split(',').map((part, index) => {
      const text = part.trim();
      if (!/^\d+$/.test(text)) throw new UsageError(`--tokens: item ${index + 1} ("${part}") is not a non-negative integer`);
      return Number(text);
    });
  }
  const modelDir = parsed.values['model-dir'];
  const registry = new TokenizerRegistry(typeof modelDir === 'string' ? { modelDirs: { [model]: modelDir } } : {});
  try {
    const tokenizer = await registry.get(model);
    const text = parsed.values['text'];
    if (typeof text === 'string') return tokenizer.renderCompletion(text);
    const messages = parseJson(parsed.values['messages'] as string, '--messages');
    if (!Array.isArray(messages)) throw new UsageError('--messages must be a JSON array of {role, content} objects');
    const kwargsText = parsed.values['chat-template-kwargs'];
    const kwargs = typeof kwargsText === 'string' ? parseJson(kwargsText, '--chat-template-kwargs') : undefined;
    if (kwargs !== undefined && (typeof kwargs !== 'object' || kwargs === null || Array.isArray(kwargs))) throw new UsageError('--chat-template-kwargs must be a JSON object');
    return tokenizer.renderChat({ messages: messages as ChatMessage[], ...(kwargs ? { chatTemplateKwargs: kwargs as Record<string, unknown> } : {}) }).tokenIds;
  } catch (err) {
    if (err instanceof TokenizationError) throw new Error(err.message);
    throw err;
  }
}

function parseJson(text: string, flag: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new UsageError(`${flag} is not valid JSON: ${(err as Error).message}`);
  }
}
