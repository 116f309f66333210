import { chatRenderRequestFromOpenAI, parsePythonJson, PyFloat, TokenizationError } from './index';

describe('chatRenderRequestFromOpenAI', () => {
  it('maps vLLM field names', () => {
    const request = chatRenderRequestFromOpenAI({
      model: 'm',
      messages: [{ role: 'user', content: 'hi' }],
      tools: [{ type: 'function', function: { name: 'f' } }],
      chat_template: '{{ messages[0].content }}',
      add_generation_prompt: false,
      continue_final_message: true,
      chat_template_kwargs: { enable_thinking: false },
      tool_choice: 'none',
      reasoning_effort: 'low',
      documents: [{ title: 't' }],
      add_special_tokens: true,
    });
    expect(request).toEqual({
      messages: [{ role: 'user', content: 'hi' }],
      tools: [{ type: 'function', function: { name: 'f' } }],
      chatTemplate: '{{ messages[0].content }}',
      addGenerationPrompt: false,
      continueFinalMessage: true,
      chatTemplateKwargs: { enable_thinking: false },
      toolChoice: 'none',
      reasoningEffort: 'low',
      documents: [{ title: 't' }],
      addSpecialTokens: true,
    });
  });

  it('keeps Python float-ness from a parsePythonJson body', () => {
    const body = parsePythonJson('{"messages":[{"role":"user","content":"x"}],"chat_template_kwargs":{"t":1.0}}') as Record<string, unknown>;
    expect(chatRenderRequestFromOpenAI(body).chatTemplateKwargs?.['t']).toBeInstanceOf(PyFloat);
  });

  it.each([
    [{}, /messages must be a non-empty array/],
    [{ messages: [] }, /messages must be a non-empty array/],
    [{ messages: ['x'] }, /messages\[0\] must be an object/],
    [{ messages: [{ role: 'user', content: 3 }] }, /messages\[0\]\.content/],
    [{ messages: [{ role: 'user' }], tools: {} }, /tools must be an array/],
    [{ messages: [{ role: 'user' }], add_generation_prompt: 'yes' }, /add_generation_prompt must be a boolean/],
    [{ messages: [{ role: 'user' }], chat_template_kwargs: [1] }, /chat_template_kwargs must be an object/],
  ])('rejects %j', (body, message) => {
    expect(() => chatRenderRequestFromOpenAI(body)).toThrow(message);
    expect(() => chatRenderRequestFromOpenAI(body)).toThrow(TokenizationError);
  });
});
