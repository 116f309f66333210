/**
 * Routing modes the demo compares on one fleet (issue: rr, random, load, approx, precise, oracle):
 *
 * - `rr`: pods in turn — a Kubernetes Service.
 * - `random`: a pod at random (seeded).
 * - `load`: a gateway with only the load scorers (kv-cache-utilization, queue-size).
 * - `approx`: a gateway whose prefix scorer learns from its own past decisions, no KV events
 *   (GAIE's approximate prefix scorer), plus the load scorers and no-hit-LRU.
 * - `precise`: the gateway with every scorer: this product.
 * - `oracle`: the upper bound — before each request, every pod is asked how many leading blocks
 *   of the prompt its cache holds right now (`POST /debug/lookup` on the simulated pods); the
 *   longest wins, ties go to the pod with the fewest requests in flight from this client.
 */
import type { WorkloadPrompt } from '@kvr/loadgen';
import { seededRandom } from '@kvr/loadgen';
import type { HfModelTokenizer } from '@kvr/tokenization';
import type { ModeSpec } from './run';

export const MODES = ['rr', 'random', 'load', 'approx', 'precise', 'oracle'] as const;
export type Mode = (typeof MODES)[number];

export function roundRobin(podUrls: readonly string[]): ModeSpec {
  return { mode: 'rr', targetFor: (i) => podUrls[i % podUrls.length] as string };
}

export function randomPods(podUrls: readonly string[], seed: number): ModeSpec {
  const random = seededRandom(seed);
  return { mode: 'random', targetFor: () => podUrls[random.int(podUrls.length)] as string };
}

export function viaRouter(mode: string, url: string): ModeSpec {
  return { mode, targetFor: () => url };
}

/**
 * @param tokenizer the model's tokenizer: every prompt is tokenized once, here, so that the
 *   oracle's own work does not delay the sends of the timed stages
 */
export function oracle(podUrls: readonly string[], prompts: readonly WorkloadPrompt[], tokenizer: HfModelTokenizer, model: string): ModeSpec {
  const inFlight = new Map<string, number>(podUrls.map((url) => [url, 0]));
  const idsByText = new Map<string, number[]>(prompts.map((p) => [p.text, tokenizer.renderCompletion(p.text)]));
  const tokens = (prompt: WorkloadPrompt): number[] => idsByText.get(prompt.text) ?? tokenizer.renderCompletion(prompt.text);
  return {
    mode: 'oracle',
    async targetFor(_i, prompt) {
      const body = JSON.stringify({ model, prompt_token_ids: tokens(prompt) });
      const cached = await Promise.all(
        podUrls.map(async (url) => {
          const res = await fetch(new URL('/debug/lookup', url), { method: 'POST', headers: { 'content-type': 'application/json' }, body });
          return res.ok ? ((await res.json()) as { cachedBlocks: number }).cachedBlocks : -1;
        }),
      );
      let best = 0;
      for (let p = 1; p < podUrls.length; p++) {
        const better = (cached[p] as number) > (cached[best] as number);
        const tie = cached[p] === cached[best] && (inFlight.get(podUrls[p] as string) as number) < (inFlight.get(podUrls[best] as string) as number);
        if (better || tie) best = p;
      }
      const url = podUrls[best] as string;
      inFlight.set(url, (inFlight.get(url) as number) + 1);
      return url;
    },
    onFinished: (url) => inFlight.set(url, (inFlight.get(url) ?? 1) - 1),
  };
}
