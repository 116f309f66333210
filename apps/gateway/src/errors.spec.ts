import { badRequest, GatewayError, noPod, routeNotFound, tooLarge, unauthorized, unknownModel, upstreamFailed } from './errors';

describe('gateway errors', () => {
  it.each([
    ['badRequest', badRequest('prompt must be a string', 'prompt'), 400, 'bad_request', 'invalid_request_error', 'prompt', 'invalid_value'],
    ['unknownModel', unknownModel('llama'), 404, 'unknown_model', 'invalid_request_error', 'model', 'model_not_found'],
    ['tooLarge', tooLarge(1024), 413, 'too_large', 'invalid_request_error', null, 'request_too_large'],
    ['noPod', noPod('no pod answers', 3), 503, 'no_pod', 'server_error', null, 'service_unavailable'],
    ['upstreamFailed', upstreamFailed('no pod answered', 3), 503, 'upstream_failed', 'server_error', null, 'upstream_unavailable'],
    ['unauthorized', unauthorized(), 401, 'unauthorized', 'invalid_request_error', null, 'invalid_api_key'],
    ['routeNotFound', routeNotFound('GET', '/v2/nothing'), 404, 'not_found', 'invalid_request_error', null, 'not_found'],
  ])('%s answers with its status, reason and an OpenAI error body', (_name, error, status, reason, type, param, code) => {
    expect(error).toBeInstanceOf(GatewayError);
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('GatewayError');
    expect(error.status).toBe(status);
    expect(error.reason).toBe(reason);
    expect(error.body()).toEqual({ error: { message: error.message, type, param, code } });
    // Exactly the four keys the openai clients read, and it survives JSON.
    expect(Object.keys(error.body().error).sort()).toEqual(['code', 'message', 'param', 'type']);
    expect(JSON.parse(JSON.stringify(error.body()))).toEqual(error.body());
  });

  it('names the model, the limit, the method and the path in the messages', () => {
    expect(unknownModel('llama-3').message).toContain('`llama-3`');
    expect(tooLarge(2048).message).toContain('2048 bytes');
    expect(routeNotFound('DELETE', '/v1/x').message).toBe('No route DELETE /v1/x.');
  });

  it('badRequest has a null param unless one is named', () => {
    expect(badRequest('The body must be a JSON object.').body().error.param).toBeNull();
  });

  it.each([
    ['noPod', noPod('x', 7)],
    ['upstreamFailed', upstreamFailed('x', 0)],
  ])('%s carries Retry-After in seconds', (_name, error) => {
    expect(Object.keys(error.headers)).toEqual(['retry-after']);
    expect(error.headers['retry-after']).toMatch(/^\d+$/);
  });

  it('uses the seconds it was given for Retry-After', () => {
    expect(noPod('x', 7).headers).toEqual({ 'retry-after': '7' });
    expect(upstreamFailed('x', 0).headers).toEqual({ 'retry-after': '0' });
  });

  it.each([badRequest('x'), unknownModel('m'), tooLarge(1), unauthorized(), routeNotFound('GET', '/')])('a %# non-503 error sets no extra headers', (error) => {
    expect(error.headers).toEqual({});
  });
});
