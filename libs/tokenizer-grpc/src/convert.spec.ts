import { parsePythonJson } from '@kvr/tokenization';
import { BackendError } from './backend';
import { chatRequestFromProto, messageToProto, pythonJsonText } from './convert';

const base = { model_name: 'm', chat_template: '', continue_final_message: false };

describe('proto → chat request', () => {
  it('defaults add_generation_prompt to true when unset, honours an explicit false', () => {
    expect(chatRequestFromProto({ ...base, messages: [] }).addGenerationPrompt).toBe(true);
    expect(chatRequestFromProto({ ...base, messages: [], add_generation_prompt: false, _add_generation_prompt: 'add_generation_prompt' }).addGenerationPrompt).toBe(false);
  });

  it('turns content_parts into OpenAI content and parses tool calls', () => {
    const request = chatRequestFromProto({
      ...base,
      messages: [
        { role: 'user', content_parts: [{ type: 'text', text: 'a' }, { type: 'image_url', image_url: { url: 'http://x/i.png' } }] },
        { role: 'assistant', content_parts: [], tool_calls_json: '[{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}}]' },
      ],
    });
    expect(request.messages[0]).toEqual({ role: 'user', content: [{ type: 'text', text: 'a' }, { type: 'image_url', image_url: { url: 'http://x/i.png' } }] });
    expect(request.messages[1]?.tool_calls).toEqual([{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{}' } }]);
  });

  it('rejects malformed JSON fields with invalid_argument naming the field', () => {
    const bad = (): unknown => chatRequestFromProto({ ...base, messages: [], chat_template_kwargs: '[1]', _chat_template_kwargs: 'chat_template_kwargs' });
    expect(bad).toThrow(BackendError);
    expect(bad).toThrow('chat_template_kwargs must be a JSON object');
  });
});

describe('pythonJsonText', () => {
  it('writes back floats, big integers and key order as the client sent them', () => {
    const text = '{"b":1.0,"a":[18446744073709551615,2.5,{"10":1,"2":true}],"c":null}';
    expect(pythonJsonText(parsePythonJson(text))).toBe(text);
  });

  it('round-trips tool calls through the proto form', () => {
    const calls = parsePythonJson('[{"function":{"name":"f","arguments":{"x":1.0}}}]') as unknown[];
    expect(messageToProto({ role: 'assistant', tool_calls: calls }).tool_calls_json).toBe('[{"function":{"name":"f","arguments":{"x":1.0}}}]');
  });
});
