/**
 * inference-perf's `shared_prefix` workload (upstream-spec §5.3): `groups` system prompts of
 * `systemPromptLen` tokens, each followed by `promptsPerGroup` questions of `questionLen` tokens;
 * prompts listed group-major then shuffled with the seed; request i sends prompt i mod n.
 *
 * Texts are built from words the model's tokenizer encodes as exactly one token each (the app
 * picks them with the real tokenizer), so that lengths are exact without inference-perf's
 * decode/encode loop, and a group's prefix tokenizes identically in every prompt of the group
 * (each question starts at a word boundary).
 */
import { seededRandom, shuffle } from './random';

export interface SharedPrefixParams {
  /** Groups (inference-perf `num_groups`). */
  groups: number;
  /** Prompts per group (`num_prompts_per_group`). */
  promptsPerGroup: number;
  /** Tokens of each group's shared prefix (`system_prompt_len`). */
  systemPromptLen: number;
  /** Tokens of each question (`question_len`). */
  questionLen: number;
  /** `max_tokens` of every request (`output_len`). */
  outputLen: number;
  seed: number;
}

export interface WorkloadPrompt {
  readonly group: number;
  readonly text: string;
}

export interface SharedPrefixWorkload {
  readonly params: SharedPrefixParams;
  /** Already shuffled: request i uses prompts[i mod length]. */
  readonly prompts: readonly WorkloadPrompt[];
  /** Tokens a full pass keeps resident: groups × (prefix + prompts × question). */
  readonly workingSetTokens: number;
}

/**
 * @param words single-token words (each encodes to one token when preceded by a space)
 */
export function sharedPrefixWorkload(params: SharedPrefixParams, words: readonly string[]): SharedPrefixWorkload {
  if (words.length < 2) throw new RangeError('need at least two single-token words');
  for (const [name, value] of Object.entries(params)) {
    if (name !== 'seed' && (!Number.isInteger(value) || value < 1)) throw new RangeError(`${name} must be a positive integer, got ${value}`);
  }
  const random = seededRandom(params.seed);
  const text = (tokens: number): string => {
    const parts: string[] = [];
    for (let i = 0; i < tokens; i++) parts.push(words[random.int(words.length)] as string);
    return ` ${parts.join(' ')}`;
  };
  const prompts: WorkloadPrompt[] = [];
  for (let group = 0; group < params.groups; group++) {
    const prefix = text(params.systemPromptLen);
    for (let p = 0; p < params.promptsPerGroup; p++) prompts.push({ group, text: `${prefix}${text(params.questionLen)}` });
  }
  return {
    params,
    prompts: shuffle(prompts, random),
    workingSetTokens: params.groups * (params.systemPromptLen + params.promptsPerGroup * params.questionLen),
  };
}

/**
 * Send times (seconds from the stage start) of inference-perf's Poisson timer: per one-second
 * window, k ~ Poisson(rate) requests whose exponential gaps are rescaled to fill the second.
 */
export function poissonSchedule(rate: number, durationSeconds: number, seed: number): number[] {
  const random = seededRandom(seed);
  const times: number[] = [];
  const total = Math.floor(rate * durationSeconds);
  for (let window = 0; times.length < total; window++) {
    // k = arrivals of a rate-`rate` Poisson process within one second, counted by summing
    // exponential gaps (in log space, so that no product underflows at high rates).
    let k = 0;
    for (let t = -Math.log(1 - random.next()); t < rate; t -= Math.log(1 - random.next())) k++;
    if (k === 0) continue;
    const gaps = Array.from({ length: k }, () => -Math.log(1 - random.next()));
    const sum = gaps.reduce((a, b) => a + b, 0);
    let t = window;
    for (const gap of gaps) {
      if (times.length >= total) break;
      times.push(t);
      t += gap / sum;
    }
  }
  return times;
}
