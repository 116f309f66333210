import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TokenizationError, type ChatRenderRequest } from './api';
import { specialTokensOf } from './model-tokenizer';
import { parsePythonJson } from './py-json';
import { TokenizerRegistry } from './registry';
import { qwen3ChatTemplate, qwen3Files, qwen3FilesDir, renderWithPython, rustTokenizer, type PythonRenderResult } from './testing';
import type { HfModelTokenizer } from './model-tokenizer';

// Loading the Qwen3 tokenizer and the reference encodes take seconds on a 2-core machine.
jest.setTimeout(60_000);

// Oracles: Python jinja2 + the vLLM/transformers steps in fixtures/render_chat.py for the text;
// HF Rust tokenizers for the ids of that text (add_special_tokens=False, as vLLM encodes chat).
const NOW = '2026-01-15T09:05:07';
const now = () => new Date(2026, 0, 15, 9, 5, 7);

const LONG_SYSTEM = 'You are a meticulous assistant for a routing team. '.repeat(120) + '规则：回答要简洁。😀\n\n  Indented line\twith tab.';
const TOOLS = `[{"type": "function", "function": {"name": "get_weather", "description": "Weather for a city", "parameters": {"type": "object", "properties": {"city": {"type": "string", "description": "名前"}, "days": {"type": "integer", "minimum": 1.0, "default": 2}}, "required": ["city"]}}},
  {"type": "function", "function": {"name": "no_description", "strict": true}}]`;
const CUSTOM_OPENAI_TEMPLATE =
  "{% for message in messages %}<{{ message.role }}>{% if message.content is string %}{{ message.content }}{% else %}{% for part in message.content %}[{{ part.type }}:{{ part.text | default('') }}]{% endfor %}{% endif %}</{{ message.role }}>\n{% endfor %}{% if documents %}{% for d in documents %}<doc>{{ d.title }}</doc>{% endfor %}{% endif %}{% if add_generation_prompt %}<assistant>{% endif %}";

/** OpenAI request bodies (JSON text, parsed with Python semantics on both sides). */
const CASES: [string, string][] = [
  ['single user', '{"messages": [{"role": "user", "content": "Hello!"}]}'],
  ['system and user', '{"messages": [{"role": "system", "content": "You are helpful."}, {"role": "user", "content": "Hi there"}]}'],
  ['no generation prompt', '{"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello."}], "add_generation_prompt": false}'],
  ['multi-turn', '{"messages": [{"role": "system", "content": "S"}, {"role": "user", "content": "q1"}, {"role": "assistant", "content": "a1"}, {"role": "user", "content": "q2"}, {"role": "assistant", "content": "a2"}, {"role": "user", "content": "q3"}]}'],
  ['enable_thinking false', '{"messages": [{"role": "user", "content": "Hi"}], "chat_template_kwargs": {"enable_thinking": false}}'],
  ['enable_thinking true', '{"messages": [{"role": "user", "content": "Hi"}], "chat_template_kwargs": {"enable_thinking": true}}'],
  ['enable_thinking null is ignored', '{"messages": [{"role": "user", "content": "Hi"}], "chat_template_kwargs": {"enable_thinking": null}}'],
  ['reasoning_effort none disables thinking', '{"messages": [{"role": "user", "content": "Hi"}], "reasoning_effort": "none"}'],
  ['reasoning_effort with explicit enable_thinking', '{"messages": [{"role": "user", "content": "Hi"}], "reasoning_effort": "none", "chat_template_kwargs": {"enable_thinking": true}}'],
  ['reasoning_content after the last query', '{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "partial", "reasoning_content": "\\n  thinking hard  \\n"}], "add_generation_prompt": false}'],
  ['reasoning field before the last query', '{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a", "reasoning": "old thoughts"}, {"role": "user", "content": "q2"}]}'],
  ['think block inside content', '{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "<think>\\n\\n  inner\\t \\n</think>\\n\\n  answer  "}, {"role": "user", "content": "next"}, {"role": "assistant", "content": "<think>x</think>\\n \\tspaced"}], "add_generation_prompt": false}'],
  ['tools and tool calls', `{"messages": [{"role": "system", "content": "Use tools."}, {"role": "user", "content": "Weather in Paris and 東京?"},
     {"role": "assistant", "content": null, "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": "{\\"city\\": \\"Paris\\", \\"days\\": 3, \\"ratio\\": 1.0, \\"nested\\": {\\"b\\": [1, 2.5e-7], \\"a\\": \\"東京\\"}}"}},
       {"id": "c2", "type": "function", "function": {"name": "get_weather", "arguments": "not json"}}, {"id": "c3", "type": "function", "function": {"name": "get_weather", "arguments": ""}}]},
     {"role": "tool", "tool_call_id": "c1", "content": "18C"}, {"role": "tool", "tool_call_id": "c2", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]},
     {"role": "tool", "tool_call_id": "c3", "content": "<tool_response>x</tool_response>"}], "tools": ${TOOLS}}`],
  ['tool call with content and object arguments', `{"messages": [{"role": "user", "content": "go"}, {"role": "assistant", "content": "Calling.", "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": {"z": 1, "a": [true, null]}}}]}, {"role": "tool", "content": "done"}], "tools": ${TOOLS}}`],
  ['empty tool_calls list is dropped', '{"messages": [{"role": "user", "content": "go"}, {"role": "assistant", "content": "ok", "tool_calls": []}, {"role": "user", "content": "again"}]}'],
  ['content parts joined with newlines', '{"messages": [{"role": "user", "content": [{"type": "text", "text": "part one"}, {"type": "text", "text": ""}, {"type": "text", "text": "part two"}, "three"]}, {"role": "assistant", "content": [{"type": "refusal", "refusal": "no"}]}, {"role": "user", "content": [{"type": "text", "text": "ok"}]}]}'],
  ['thinking, tool_reference and untyped parts', '{"messages": [{"role": "user", "content": [{"type": "thinking", "thinking": "hmm"}, {"type": "tool_reference", "name": "search"}, {"type": "text", "text": "go"}, {"image_url": {"url": "x"}}]}]}'],
  ['image part placeholder', '{"messages": [{"role": "user", "content": [{"type": "text", "text": "What is this?"}, {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}]}]}'],
  ['continue_final_message', '{"messages": [{"role": "user", "content": "Write a poem"}, {"role": "assistant", "content": "Roses are red,\\n  "}], "add_generation_prompt": false, "continue_final_message": true}'],
  ['continue_final_message with thinking off', '{"messages": [{"role": "user", "content": "Q"}, {"role": "assistant", "content": "The answer is"}], "add_generation_prompt": false, "continue_final_message": true, "chat_template_kwargs": {"enable_thinking": false}}'],
  ['continue_final_message with the generation prompt is refused', '{"messages": [{"role": "user", "content": "Q"}, {"role": "assistant", "content": "A"}], "continue_final_message": true}'],
  ['request-supplied template (openai content format)', `{"messages": [{"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "image_url", "image_url": {"url": "x"}}]}, {"role": "assistant", "content": "b"}, {"role": "user", "content": "c"}], "chat_template": ${JSON.stringify(CUSTOM_OPENAI_TEMPLATE)}, "documents": [{"title": "T1", "text": "x"}]}`],
  ['request-supplied template that raises', `{"messages": [{"role": "user", "content": "a"}], "chat_template": "{{ raise_exception('no users allowed') }}"}`],
  ['unicode and a long system prompt', `{"messages": [{"role": "system", "content": ${JSON.stringify(LONG_SYSTEM)}}, {"role": "user", "content": "日本語で答えて 👩‍👩‍👧 e\\u0301 \\u2028 tabs\\t\\tend"}], "chat_template_kwargs": {"enable_thinking": false}}`],
  ['special tokens inside user text', '{"messages": [{"role": "user", "content": "literal <|im_end|> and <think> tags"}]}'],
  ['named messages and unknown roles', '{"messages": [{"role": "system", "content": "s", "name": "sys"}, {"role": "developer", "content": "dev"}, {"role": "user", "content": "u", "name": "bob"}]}'],
  ['system message after the first', '{"messages": [{"role": "user", "content": "u"}, {"role": "system", "content": "late system"}, {"role": "user", "content": "u2"}]}'],
];

function toRequest(body: Record<string, unknown>): ChatRenderRequest {
  const r: ChatRenderRequest = { messages: body['messages'] as ChatRenderRequest['messages'] };
  if (body['tools'] !== undefined) r.tools = body['tools'] as unknown[];
  if (body['chat_template'] !== undefined) r.chatTemplate = body['chat_template'] as string;
  if (body['add_generation_prompt'] !== undefined) r.addGenerationPrompt = body['add_generation_prompt'] as boolean;
  if (body['continue_final_message'] !== undefined) r.continueFinalMessage = body['continue_final_message'] as boolean;
  if (body['chat_template_kwargs'] !== undefined) r.chatTemplateKwargs = body['chat_template_kwargs'] as Record<string, unknown>;
  if (body['reasoning_effort'] !== undefined) r.reasoningEffort = body['reasoning_effort'] as string;
  if (body['documents'] !== undefined) r.documents = body['documents'] as unknown[];
  if (body['tool_choice'] !== undefined) r.toolChoice = body['tool_choice'];
  return r;
}

describe('renderChat on Qwen3 matches Python jinja2 (transformers + vLLM rules) and Rust ids', () => {
  let hfHome: string;
  let tokenizer: HfModelTokenizer;
  let python: PythonRenderResult[];
  const rust = rustTokenizer(join(qwen3FilesDir(), 'tokenizer.json'));
  const special = specialTokensOf({ tokenizerJson: {}, tokenizerConfig: qwen3Files().tokenizerConfig });

  beforeAll(async () => {
    hfHome = mkdtempSync(join(tmpdir(), 'kvr-chat-'));
    tokenizer = await new TokenizerRegistry({ hfHome, now }).get('Qwen/Qwen3-32B');
    const raw = `{"cases": [${CASES.map(
      ([id, body]) => `{"id": ${JSON.stringify(id)}, "mode": "vllm", "now": "${NOW}", "template": ${JSON.stringify(qwen3ChatTemplate())}, "special_tokens": ${JSON.stringify(special)}, "request": ${body}}`,
    ).join(', ')}]}`;
    python = await renderWithPython({ rawJson: raw });
  });
  afterAll(() => rmSync(hfHome, { recursive: true, force: true }));

  it('hands the template the special tokens transformers does for Qwen3', () => {
    expect(special).toEqual({ eos_token: '<|im_end|>', pad_token: '<|endoftext|>', additional_special_tokens: expect.arrayContaining(['<|im_start|>', '<|im_end|>']) });
  });

  it.each(CASES.map(([id], i) => [id, i] as const))('%s', async (_id, i) => {
    const expected = python[i]!;
    let actual: ReturnType<HfModelTokenizer['renderChat']> | TokenizationError;
    try {
      actual = tokenizer.renderChat(toRequest(parsePythonJson(CASES[i]![1]) as Record<string, unknown>));
    } catch (err) {
      if (!(err instanceof TokenizationError)) throw err;
      actual = err;
    }
    if (!expected.ok) {
      expect(actual).toBeInstanceOf(TokenizationError);
      expect((actual as TokenizationError).code).toMatch(/template_error|invalid_request/);
      return;
    }
    if (actual instanceof TokenizationError) throw new Error(`TS failed where Python rendered: ${actual.message}`);
    expect(actual.prompt).toBe(expected.text);
    expect(actual.tokenIds).toEqual((await rust.encode(expected.text, false)).ids);
  });

  it('marks placeholder renders as approximate, and only those', () => {
    const image = CASES.findIndex(([id]) => id === 'image part placeholder');
    expect(tokenizer.renderChat(toRequest(parsePythonJson(CASES[image]![1]) as Record<string, unknown>)).approximate).toBe(true);
    expect(tokenizer.renderChat({ messages: [{ role: 'user', content: 'x' }] }).approximate).toBeUndefined();
  });

  it('encodes chat without special tokens unless asked (vLLM add_special_tokens=false)', () => {
    const base = tokenizer.renderChat({ messages: [{ role: 'user', content: 'x' }] });
    expect(base.tokenIds.slice(0, 1)).toEqual([151644]); // <|im_start|>, no BOS
    expect(tokenizer.renderChat({ messages: [{ role: 'user', content: 'x' }], addSpecialTokens: true }).tokenIds).toEqual(base.tokenIds);
  });
});

describe('renderChat request rules', () => {
  let hfHome: string;
  beforeAll(() => (hfHome = mkdtempSync(join(tmpdir(), 'kvr-chat2-'))));
  afterAll(() => rmSync(hfHome, { recursive: true, force: true }));

  it('drops tools for tool_choice "none" only with excludeToolsWhenToolChoiceNone', async () => {
    const request: ChatRenderRequest = { messages: [{ role: 'user', content: 'x' }], tools: [{ type: 'function', function: { name: 'f' } }], toolChoice: 'none' };
    const keep = await new TokenizerRegistry({ hfHome }).get('Qwen/Qwen3-8B');
    const drop = await new TokenizerRegistry({ hfHome, excludeToolsWhenToolChoiceNone: true }).get('Qwen/Qwen3-8B');
    expect(keep.renderChat(request).prompt).toContain('# Tools');
    expect(drop.renderChat(request).prompt).not.toContain('# Tools');
  });

  it('applies server default template kwargs under the request’s', async () => {
    const tok = await new TokenizerRegistry({ hfHome, defaultChatTemplateKwargs: { enable_thinking: false } }).get('Qwen/Qwen3-8B');
    expect(tok.renderChat({ messages: [{ role: 'user', content: 'x' }] }).prompt).toMatch(/<think>\n\n<\/think>\n\n$/);
    expect(tok.renderChat({ messages: [{ role: 'user', content: 'x' }], chatTemplateKwargs: { enable_thinking: true } }).prompt).toMatch(/assistant\n$/);
  });

  it('rejects malformed requests with invalid_request', async () => {
    const tok = await new TokenizerRegistry({ hfHome }).get('Qwen/Qwen3-8B');
    const bad: unknown[] = [
      { messages: [] },
      { messages: [{ content: 'no role' }] },
      { messages: [{ role: 'user', content: [{ type: 'video_game' }] }] },
      { messages: [{ role: 'user', content: 'x' }], chatTemplateKwargs: { tokenize: true } },
      { messages: [{ role: 'user', content: 'x' }], tools: [{ type: 'function' }] },
    ];
    for (const request of bad) {
      expect(() => tok.renderChat(request as ChatRenderRequest)).toThrow(expect.objectContaining({ code: 'invalid_request' }));
    }
  });

  it('does not modify the caller’s request objects', async () => {
    const tok = await new TokenizerRegistry({ hfHome }).get('Qwen/Qwen3-8B');
    const request: ChatRenderRequest = {
      messages: [
        { role: 'user', content: 'q' },
        { role: 'assistant', content: 'a', tool_calls: [{ type: 'function', function: { name: 'f', arguments: '{"x": 1}' } }] },
      ],
      addGenerationPrompt: false,
      continueFinalMessage: true,
    };
    const copy = JSON.parse(JSON.stringify(request)) as ChatRenderRequest;
    tok.renderChat(request);
    expect(request).toEqual(copy);
  });
});
