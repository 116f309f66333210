import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { semconv } from '@kvr/telemetry';
import { Counter, type Registry } from 'prom-client';
import type { TokenizerBackend } from './backend';

/**
 * Response cache in front of an upstream backend: the same request (method, model and every
 * argument, fingerprinted with SHA-256 of its JSON) is answered from memory. The in-process
 * backend has its own prefix caches; an upstream can only be cached by whole request, which is
 * what repeats in practice (the benchmark re-sends each prompt). Failures are never cached.
 */
export function cachedBackend(inner: TokenizerBackend, maxEntries: number, registry: Registry): TokenizerBackend {
  if (maxEntries <= 0) return inner;
  // Every cached result is an object or array (ids, {tokenIds}, {ids, offsets}).
  const cache = new LRUCache<string, object>({ max: maxEntries });
  const outcomes = new Counter({ name: semconv.METRIC_TOKENIZER_CACHE_TOTAL, help: 'Tokenizer cache lookups by cache and outcome.', labelNames: ['cache', 'outcome'], registers: [registry] });
  const memo = async <T extends object>(method: string, args: unknown[], compute: () => Promise<T>): Promise<T> => {
    const key = createHash('sha256').update(JSON.stringify([method, ...args])).digest('base64');
    if (cache.has(key)) {
      outcomes.inc({ cache: 'upstream_response', outcome: 'hit' });
      return cache.get(key) as T;
    }
    outcomes.inc({ cache: 'upstream_response', outcome: 'miss' });
    const value = await compute();
    cache.set(key, value);
    return value;
  };
  return {
    description: `${inner.description} (response cache ${maxEntries})`,
    initialize: (model) => inner.initialize(model),
    tokenize: (model, text, addSpecialTokens, withOffsets) => memo('tokenize', [model, text, addSpecialTokens, withOffsets], () => inner.tokenize(model, text, addSpecialTokens, withOffsets)),
    renderCompletion: (model, prompt) => memo('completion', [model, prompt], () => inner.renderCompletion(model, prompt)),
    renderChat: (model, request) => memo('chat', [model, request], () => inner.renderChat(model, request)),
    close: () => inner.close(),
  };
}
