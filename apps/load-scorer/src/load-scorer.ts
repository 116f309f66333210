/**
 * The load scorer as a whole: discovery → one scrape loop per pod → last values in memory →
 * the Scorer service over gRPC. One instance scrapes the fleet once, however many gateways call.
 */
import type { Registry } from 'prom-client';
import type { LoadScorerConfig } from '@kvr/config';
import { podSourceFromSettings, type PodChange, type PodSource } from '@kvr/discovery';
import type { Logger } from '@kvr/telemetry';
import { startScorerGrpcServer, type ScorerGrpcServer } from './grpc-server';
import { createLoadScorerMetrics } from './metrics';
import { LoadScoreService } from './score-service';
import { PodScraper } from './scraper';

export class LoadScorer {
  private stopping = false;

  private constructor(
    private readonly config: LoadScorerConfig,
    private readonly logger: Logger,
    readonly scraper: PodScraper,
    private readonly source: PodSource,
    private readonly grpcServer: ScorerGrpcServer,
  ) {}

  /**
   * Starts scraping and serving. Rejects (with everything already started stopped again) when
   * the gRPC address cannot be bound or discovery has no valid initial set.
   */
  static async start(config: LoadScorerConfig, logger: Logger, registry: Registry): Promise<LoadScorer> {
    const podCounts = { read: (): { known: number; fresh: number } => ({ known: 0, fresh: 0 }) };
    const metrics = createLoadScorerMetrics(registry, () => podCounts.read());
    const scraper = new PodScraper({
      intervalMs: config.scrapeIntervalMs,
      timeoutMs: config.scrapeTimeoutMs,
      metricsPath: config.metricsPath,
      logger: logger.child({ component: 'scraper' }),
      metrics,
    });
    podCounts.read = () => scraper.counts(config.staleAfterMs);
    const service = new LoadScoreService({ source: scraper, staleAfterMs: config.staleAfterMs, metrics });
    // Built before anything listens: a static list with invalid pods throws here.
    const source = podSourceFromSettings(config.discovery, logger.child({ component: 'discovery' }));
    const grpcServer = await startScorerGrpcServer({ address: config.grpc, service, logger });
    const onChange = (change: PodChange): void => {
      if (change.type === 'added') scraper.addPod(change.pod);
      else scraper.removePod(change.pod.id);
    };
    try {
      await source.start(onChange);
    } catch (err) {
      await Promise.allSettled([source.stop(), grpcServer.stop(), scraper.stop()]);
      throw err;
    }
    logger.info({ grpc: grpcServer.address, pods: source.current().length, scrapeIntervalMs: config.scrapeIntervalMs, staleAfterMs: config.staleAfterMs }, 'load scorer serving');
    return new LoadScorer(config, logger, scraper, source, grpcServer);
  }

  /** `host:port` of the Scorer service, with the bound port. */
  get grpcAddress(): string {
    return this.grpcServer.address;
  }

  /** Pods discovered, and pods whose values are fresh enough to be scored. */
  podCounts(): { known: number; fresh: number } {
    return this.scraper.counts(this.config.staleAfterMs);
  }

  /** Readiness: serving gRPC with discovery started (a fleet with no fresh pod is reported, not unready). */
  ready(): { ok: boolean; details: Record<string, unknown> } {
    const counts = this.podCounts();
    return { ok: !this.stopping, details: { grpc: this.stopping ? 'stopping' : 'serving', discovery: this.source.kind, podsKnown: counts.known, podsFresh: counts.fresh } };
  }

  /** Stops serving, discovery and every scrape loop. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    const results = await Promise.allSettled([this.grpcServer.stop(), this.source.stop(), this.scraper.stop()]);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      this.logger.warn({ err: failed.reason as unknown }, 'error while stopping the load scorer');
      throw failed.reason;
    }
  }
}
