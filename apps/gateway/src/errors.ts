/**
 * Errors the gateway answers itself, in OpenAI's shape:
 * `{"error":{"message","type","param","code"}}` (what the `openai` clients parse).
 */
export type RejectReason = 'bad_request' | 'unknown_model' | 'too_large' | 'no_pod' | 'upstream_failed' | 'unauthorized' | 'not_found';

export class GatewayError extends Error {
  override readonly name = 'GatewayError';
  constructor(
    readonly status: number,
    message: string,
    readonly reason: RejectReason,
    readonly type: string,
    readonly param: string | null = null,
    readonly code: string | null = null,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }

  body(): { error: { message: string; type: string; param: string | null; code: string | null } } {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

export const badRequest = (message: string, param: string | null = null): GatewayError =>
  new GatewayError(400, message, 'bad_request', 'invalid_request_error', param, 'invalid_value');

export const unknownModel = (model: string): GatewayError =>
  new GatewayError(404, `The model \`${model}\` does not exist or no pod serves it.`, 'unknown_model', 'invalid_request_error', 'model', 'model_not_found');

export const tooLarge = (limit: number): GatewayError =>
  new GatewayError(413, `Request body is larger than the limit of ${limit} bytes.`, 'too_large', 'invalid_request_error', null, 'request_too_large');

export const noPod = (message: string, retryAfterSeconds: number): GatewayError =>
  new GatewayError(503, message, 'no_pod', 'server_error', null, 'service_unavailable', { 'retry-after': String(retryAfterSeconds) });

export const upstreamFailed = (message: string, retryAfterSeconds: number): GatewayError =>
  new GatewayError(503, message, 'upstream_failed', 'server_error', null, 'upstream_unavailable', { 'retry-after': String(retryAfterSeconds) });

export const unauthorized = (): GatewayError => new GatewayError(401, 'A valid bearer token is required.', 'unauthorized', 'invalid_request_error', null, 'invalid_api_key');

export const routeNotFound = (method: string, path: string): GatewayError =>
  new GatewayError(404, `No route ${method} ${path}.`, 'not_found', 'invalid_request_error', null, 'not_found');
