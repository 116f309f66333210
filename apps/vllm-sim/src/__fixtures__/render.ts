/** Token ids the router side computes for a chat request (the tokenization lib directly, no pod). */
import { TokenizerRegistry, type ChatRenderRequest } from '@kvr/tokenization';

let tokenizerPromise: ReturnType<TokenizerRegistry['get']> | null = null;
let tokenizer: Awaited<ReturnType<TokenizerRegistry['get']>> | null = null;

export async function loadRouterTokenizer(): Promise<void> {
  tokenizerPromise ??= new TokenizerRegistry({}).get('Qwen/Qwen3-32B');
  tokenizer = await tokenizerPromise;
}

export function renderChatRequestIds(request: ChatRenderRequest): number[] {
  if (!tokenizer) throw new Error('call loadRouterTokenizer() first');
  return tokenizer.renderChat(request).tokenIds;
}
