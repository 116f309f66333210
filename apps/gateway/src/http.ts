/**
 * The NestJS shell of the gateway: routes and DI only. Nest's body parser is off — the gateway
 * reads bodies itself (size limit, exact bytes forwarded) — and every error, Nest's own 404s
 * included, leaves in OpenAI's error shape.
 */
import 'reflect-metadata';
import { Catch, Controller, Get, HttpException, Inject, Module, Post, Req, Res, type ArgumentsHost, type DynamicModule, type ExceptionFilter, type LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { INestApplication } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { Logger } from '@kvr/telemetry';
import { GatewayError, routeNotFound } from './errors';
import { sendError, type Gateway } from './gateway';

const GATEWAY = Symbol('gateway');
const REGISTRY = Symbol('registry');

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

@Controller()
class OpenAiController {
  constructor(@Inject(GATEWAY) private readonly gateway: Gateway) {}

  @Post('v1/completions')
  completions(@Req() req: IncomingMessage, @Res() res: ServerResponse): Promise<void> {
    return this.gateway.handle('completion', req, res);
  }

  @Post('v1/chat/completions')
  chatCompletions(@Req() req: IncomingMessage, @Res() res: ServerResponse): Promise<void> {
    return this.gateway.handle('chat', req, res);
  }

  @Get('v1/models')
  models(@Res() res: ServerResponse): void {
    sendJson(res, 200, this.gateway.models());
  }

  @Post('debug/route')
  route(@Req() req: IncomingMessage, @Res() res: ServerResponse): Promise<void> {
    return this.gateway.explain(req, res);
  }
}

@Controller()
class OperationsController {
  constructor(
    @Inject(GATEWAY) private readonly gateway: Gateway,
    @Inject(REGISTRY) private readonly registry: Registry,
  ) {}

  @Get('health')
  health(@Res() res: ServerResponse): void {
    sendJson(res, 200, { status: 'ok' });
  }

  @Get('ready')
  ready(@Res() res: ServerResponse): void {
    const report = this.gateway.ready();
    sendJson(res, report.ok ? 200 : 503, { status: report.ok ? 'ok' : 'unavailable', details: report.details });
  }

  @Get('metrics')
  async metrics(@Res() res: ServerResponse): Promise<void> {
    this.gateway.ready(); // refreshes the pod gauges
    const text = await this.registry.metrics();
    res.writeHead(200, { 'content-type': this.registry.contentType });
    res.end(text);
  }
}

/** Nest's own errors (unknown route, …) in OpenAI's shape. */
@Catch()
class OpenAiErrorFilter implements ExceptionFilter {
  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const res = http.getResponse<ServerResponse>();
    const req = http.getRequest<IncomingMessage>();
    if (exception instanceof GatewayError) return sendError(res, exception);
    if (exception instanceof HttpException && exception.getStatus() === 404) return sendError(res, routeNotFound(req.method ?? 'GET', (req.url ?? '/').split('?')[0] ?? '/'));
    const status = exception instanceof HttpException ? exception.getStatus() : 500;
    sendError(res, new GatewayError(status, exception instanceof Error ? exception.message : 'Internal error', 'bad_request', status < 500 ? 'invalid_request_error' : 'server_error'));
  }
}

@Module({})
class GatewayModule {
  static with(gateway: Gateway, registry: Registry): DynamicModule {
    return {
      module: GatewayModule,
      controllers: [OpenAiController, OperationsController],
      providers: [
        { provide: GATEWAY, useValue: gateway },
        { provide: REGISTRY, useValue: registry },
      ],
    };
  }
}

/** Nest's framework messages into our JSON log (stdout carries only the ready line). */
function nestLogger(logger: Logger): LoggerService {
  return {
    log: (message: unknown) => logger.debug({ nest: true }, String(message)),
    warn: (message: unknown) => logger.warn({ nest: true }, String(message)),
    error: (message: unknown) => logger.error({ nest: true }, String(message)),
    debug: (message: unknown) => logger.trace({ nest: true }, String(message)),
    verbose: (message: unknown) => logger.trace({ nest: true }, String(message)),
  };
}

export interface HttpServer {
  readonly url: string;
  close(): Promise<void>;
}

export async function startHttpServer(gateway: Gateway, registry: Registry, logger: Logger, host: string, port: number): Promise<HttpServer> {
  const app: INestApplication = await NestFactory.create(GatewayModule.with(gateway, registry), { bodyParser: false, logger: nestLogger(logger), abortOnError: false });
  app.useGlobalFilters(new OpenAiErrorFilter());
  const express = app.getHttpAdapter().getInstance() as { disable(setting: string): void };
  express.disable('x-powered-by');
  express.disable('etag');
  await app.listen(port, host);
  const address = app.getHttpServer().address() as AddressInfo;
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return { url: `http://${shown}:${address.port}`, close: () => app.close() };
}
