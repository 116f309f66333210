/**
 * `kvr.scoring.v1.Scorer` over gRPC with NestJS microservices: a controller with
 * `@GrpcMethod('Scorer', 'Score')` over the {@link LoadScoreService} given as a `useValue`
 * provider. Nest's logs go to our JSON logger (never the console: stdout carries only the ready
 * line).
 *
 * Port 0: Nest's ServerGrpc binds in `createClient()` and drops the port grpc-js reports, so
 * {@link PortReportingServerGrpc} overrides that one method to keep it (no free-port race).
 */
import 'reflect-metadata';
import * as grpc from '@grpc/grpc-js';
import { Controller, Inject, Module, type DynamicModule, type LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { GrpcMethod, RpcException, ServerGrpc, type MicroserviceOptions } from '@nestjs/microservices';
import { loadProtoDefinition, SCORER_PROTO, type ScoreRequest__Output, type ScoreResponse } from '@kvr/contracts';
import type { Logger } from '@kvr/telemetry';
import { LoadScoreService, UnknownScorerError } from './score-service';

/** Injection token of the {@link LoadScoreService} instance. */
export const LOAD_SCORE_SERVICE = Symbol('LoadScoreService');

@Controller()
export class ScorerController {
  constructor(@Inject(LOAD_SCORE_SERVICE) private readonly service: LoadScoreService) {}

  @GrpcMethod('Scorer', 'Score')
  score(request: ScoreRequest__Output): ScoreResponse {
    try {
      return this.service.score(request);
    } catch (err) {
      if (err instanceof UnknownScorerError) throw new RpcException({ code: grpc.status.INVALID_ARGUMENT, message: err.message });
      throw new RpcException({ code: grpc.status.INTERNAL, message: err instanceof Error ? err.message : String(err) });
    }
  }
}

@Module({})
export class ScorerModule {
  static forService(service: LoadScoreService): DynamicModule {
    return { module: ScorerModule, controllers: [ScorerController], providers: [{ provide: LOAD_SCORE_SERVICE, useValue: service }] };
  }
}

/** Nest's ServerGrpc that remembers the port it bound (the only change: `createClient`). */
export class PortReportingServerGrpc extends ServerGrpc {
  boundPort: number | undefined;

  override async createClient(): Promise<grpc.Server> {
    const server = new grpc.Server();
    this.boundPort = await new Promise<number>((resolve, reject) =>
      server.bindAsync(this.url, grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(new Error(`cannot listen on ${this.url}: ${err.message}`)) : resolve(port))),
    );
    return server;
  }
}

/** Nest's log calls into pino: its routine start-up chatter at debug, problems at warn/error. */
export class NestPinoLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  private static context(params: unknown[]): Record<string, unknown> {
    const last = params[params.length - 1];
    return typeof last === 'string' ? { nestContext: last } : {};
  }

  log(message: unknown, ...params: unknown[]): void {
    this.logger.debug(NestPinoLogger.context(params), String(message));
  }
  error(message: unknown, ...params: unknown[]): void {
    const stack = params.length > 1 && typeof params[0] === 'string' ? { stack: params[0] } : {};
    this.logger.error({ ...NestPinoLogger.context(params), ...stack }, message instanceof Error ? message.message : String(message));
  }
  warn(message: unknown, ...params: unknown[]): void {
    this.logger.warn(NestPinoLogger.context(params), String(message));
  }
  debug(message: unknown, ...params: unknown[]): void {
    this.logger.debug(NestPinoLogger.context(params), String(message));
  }
  verbose(message: unknown, ...params: unknown[]): void {
    this.logger.trace(NestPinoLogger.context(params), String(message));
  }
  fatal(message: unknown, ...params: unknown[]): void {
    this.logger.fatal(NestPinoLogger.context(params), String(message));
  }
}

export interface ScorerGrpcServer {
  /** `host:port` with the bound port. */
  readonly address: string;
  stop(): Promise<void>;
}

/** Starts the Scorer service on `address` (`host:port`, port 0 picks one). */
export async function startScorerGrpcServer(options: { address: string; service: LoadScoreService; logger: Logger }): Promise<ScorerGrpcServer> {
  const strategy = new PortReportingServerGrpc({
    package: 'kvr.scoring.v1',
    packageDefinition: loadProtoDefinition(SCORER_PROTO),
    url: options.address,
    gracefulShutdown: true,
  });
  const app = await NestFactory.createMicroservice<MicroserviceOptions>(ScorerModule.forService(options.service), {
    strategy,
    logger: new NestPinoLogger(options.logger.child({ component: 'nest' })),
    // Nest's default on a start-up error is process.abort(); we want the error, to report it.
    abortOnError: false,
  });
  try {
    await app.listen();
  } catch (err) {
    await app.close().catch(() => undefined);
    throw err;
  }
  if (strategy.boundPort === undefined) {
    await app.close();
    throw new Error(`gRPC server on ${options.address} reported no port`);
  }
  const host = options.address.slice(0, options.address.lastIndexOf(':'));
  return { address: `${host}:${strategy.boundPort}`, stop: () => app.close() };
}
