import { IsIn, IsInt, IsString, Max, Min } from 'class-validator';
import type { CrossFieldRules } from '../load';
import { Doc, Section } from '../describe';
import { isHostPort } from '../validators';
import { PodDiscoverySettings } from './collector';

export class LoadScorerConfig implements CrossFieldRules {
  @Doc('Pod discovery (the same block as the collector\'s and the gateway\'s).')
  @Section(() => PodDiscoverySettings)
  discovery = new PodDiscoverySettings();

  @Doc('How often each pod\'s /metrics is scraped (ms); llm-d\'s default and minimum is 50.')
  @IsInt()
  @Min(10)
  scrapeIntervalMs = 50;

  @Doc('Deadline of one scrape (ms); a pod that misses it keeps its last values until they are stale.')
  @IsInt()
  @Min(10)
  scrapeTimeoutMs = 1_000;

  @Doc('Values older than this (ms) are stale: the pod is left out of the load scores (so a dead pod does not look idle).')
  @IsInt()
  @Min(50)
  staleAfterMs = 2_000;

  @Doc('Path of the metrics endpoint on each pod\'s HTTP port.')
  @IsString()
  metricsPath = '/metrics';

  @Doc('gRPC listen address host:port of the Scorer service (port 0 picks one).')
  @IsString()
  grpc = '127.0.0.1:50052';

  @Doc('Host of the HTTP server for /health, /ready, /metrics.')
  @IsString()
  probeHost = '127.0.0.1';

  @Doc('Port of that server (0 picks one).')
  @IsInt()
  @Min(0)
  @Max(65535)
  probePort = 8093;

  @Doc('Log level: fatal, error, warn, info, debug, trace or silent.')
  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  logLevel = 'info';

  crossFieldProblems(): string[] {
    const problems: string[] = [];
    if (!isHostPort(this.grpc)) problems.push(`grpc: "${this.grpc}" is not host:port`);
    problems.push(...this.discovery.problems());
    if (this.staleAfterMs <= this.scrapeIntervalMs) problems.push('staleAfterMs must be greater than scrapeIntervalMs');
    return problems;
  }
}
