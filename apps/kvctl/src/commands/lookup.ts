import type { DumpResponse__Output, ExplainResponse__Output } from '@kvr/contracts';
import { UsageError, type CommandSpec, type ParsedCommand } from '@kvr/runtime';
import { ADDRESS_OPTIONS, resolveAddresses } from '../addresses';
import type { CommandIo } from '../io';
import { tokensOf } from './hash';
import { indexClient } from './index-client';

export const lookupSpec: CommandSpec = {
  name: 'kvctl lookup',
  summary: 'Asks the indexer which pods hold the longest prefix of a prompt, block by block.',
  options: {
    config: ADDRESS_OPTIONS['config']!,
    indexer: ADDRESS_OPTIONS['indexer']!,
    model: { type: 'string', description: 'Model (or LoRA adapter) the prompt is for', placeholder: 'NAME' },
    prompt: { type: 'string', description: 'Prompt text (tokenized as vLLM does for /v1/completions)', placeholder: 'TEXT' },
    tokens: { type: 'string', description: 'Token ids, comma-separated', placeholder: 'CSV' },
    messages: { type: 'string', description: 'Chat messages as a JSON array (rendered with the chat template)', placeholder: 'JSON' },
    pods: { type: 'string', description: 'Candidate pods, comma-separated (default: every pod holding the first block)', placeholder: 'LIST' },
    'model-dir': { type: 'string', description: 'Tokenizer files of the model, if not built in or in the HF cache', placeholder: 'DIR' },
    json: { type: 'boolean', description: 'One JSON object' },
  },
  details: 'Prints per pod the consecutive blocks it holds of the prompt, then which pods hold each block.',
};

export async function runLookup(parsed: ParsedCommand, io: CommandIo): Promise<number> {
  const model = parsed.values['model'];
  if (typeof model !== 'string' || model === '') throw new UsageError('--model is required');
  if (typeof parsed.values['prompt'] === 'string') parsed.values['text'] = parsed.values['prompt'];
  const tokenIds = await tokensOf(parsed, model);
  const addresses = resolveAddresses(parsed.values, io);
  const pods = typeof parsed.values['pods'] === 'string' ? parsed.values['pods'].split(',').map((p) => p.trim()).filter(Boolean) : [];
  const client = indexClient(addresses.indexer);
  try {
    const response = await client.call<ExplainResponse__Output>('Explain', { model, pods, token_ids: tokenIds });
    if (parsed.values['json'] === true) {
      io.stdout.write(`${JSON.stringify(response)}\n`);
      return 0;
    }
    io.stdout.write(`${response.request_blocks} blocks (${tokenIds.length} tokens)\n`);
    for (const pod of [...response.pods].sort((a, b) => b.matched_blocks - a.matched_blocks)) {
      io.stdout.write(`  ${pod.pod}\t${pod.matched_blocks}/${response.request_blocks} blocks\tscore ${(response.request_blocks ? pod.weighted_score / response.request_blocks : 0).toFixed(3)}${pod.speculative_blocks ? `\t(${pod.speculative_blocks} speculative)` : ''}\n`);
    }
    response.blocks.forEach((block, i) => io.stdout.write(`  block ${i}\t${block.request_key}\t${block.pods.join(',') || '-'}\n`));
    return 0;
  } finally {
    client.close();
  }
}

export const dumpSpec: CommandSpec = {
  name: 'kvctl dump',
  summary: 'Lists index entries (request key, pod, tier, live blocks), optionally of one pod.',
  options: {
    config: ADDRESS_OPTIONS['config']!,
    indexer: ADDRESS_OPTIONS['indexer']!,
    pod: { type: 'string', description: 'Only this pod', placeholder: 'POD' },
    limit: { type: 'string', description: 'At most N entries (default 1000)', placeholder: 'N' },
    json: { type: 'boolean', description: 'One JSON object per entry per line' },
  },
};

export async function runDump(parsed: ParsedCommand, io: CommandIo): Promise<number> {
  const limitText = parsed.values['limit'];
  const limit = typeof limitText === 'string' ? Number(limitText) : 1000;
  if (!Number.isInteger(limit) || limit < 1) throw new UsageError('--limit must be a positive integer');
  const addresses = resolveAddresses(parsed.values, io);
  const client = indexClient(addresses.indexer);
  try {
    const response = await client.call<DumpResponse__Output>('Dump', { pod: typeof parsed.values['pod'] === 'string' ? parsed.values['pod'] : '', limit });
    for (const entry of response.entries) {
      io.stdout.write(parsed.values['json'] === true ? `${JSON.stringify(entry)}\n` : `${entry.request_key}\t${entry.pod}\t${entry.tier || '-'}\t${entry.speculative ? 'speculative' : entry.blocks}\n`);
    }
    return 0;
  } finally {
    client.close();
  }
}
