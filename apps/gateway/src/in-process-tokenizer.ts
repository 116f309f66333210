/**
 * `tokenization: in-process`: the gateway renders and tokenizes prompts itself with
 * `@kvr/tokenization` (the library the tokenizer service runs), so a request skips the hop to the
 * sidecar. Same token ids, same errors (BackendError codes, so a template error is still a 400 and
 * an unknown model a counted fallback), no deadline: the work is CPU on this event loop.
 */
import type { TokenizerModelsConfig } from '@kvr/config';
import { registryOptionsFromSettings, TokenizerRegistry, type ChatRenderRequest } from '@kvr/tokenization';
import { localBackend, type TokenizerBackend } from '@kvr/tokenizer-grpc';

export class InProcessTokenizer implements Pick<TokenizerBackend, 'renderCompletion' | 'renderChat'> {
  private readonly backend: TokenizerBackend;

  constructor(private readonly models: TokenizerModelsConfig) {
    this.backend = localBackend(new TokenizerRegistry(registryOptionsFromSettings(models)));
  }

  renderCompletion(model: string, prompt: string): Promise<number[]> {
    return this.backend.renderCompletion(model, prompt);
  }

  renderChat(model: string, request: ChatRenderRequest): Promise<{ tokenIds: number[] }> {
    return this.backend.renderChat(model, request);
  }

  /**
   * Loads `models.preload` and `served` (the base models the fleet serves, known once discovery
   * has run) before traffic: loading one takes the event loop for about a second, which the first
   * request would otherwise wait out. True when every one loaded (a missing one is logged by the
   * caller, then fails its requests as a counted fallback).
   */
  async connect(served: readonly string[] = []): Promise<boolean> {
    const models = [...new Set([...this.models.preload, ...served])];
    const loaded = await Promise.allSettled(models.map((model) => this.backend.initialize(model)));
    return loaded.every((r) => r.status === 'fulfilled');
  }

  close(): void {
    void this.backend.close();
  }
}
