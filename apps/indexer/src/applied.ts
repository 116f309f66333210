/** What an applied message tells the metrics and the log: shared by the partition consumers and the standalone indexer. */
import type { ApplyResult, PodMessage } from '@kvr/kv-index';
import type { Logger } from '@kvr/telemetry';
import type { IndexerMetrics } from './metrics';

/** `afterGap`: the batch was applied although its predecessor never came (the pod was cleared first). */
export function recordApplied(metrics: IndexerMetrics, logger: Logger, message: PodMessage, result: ApplyResult, afterGap: boolean): void {
  if (message.kind === 'batch') {
    metrics.eventAge.observe(Math.max(0, Date.now() / 1000 - message.batch.ts));
    if (afterGap) {
      metrics.acceptedGaps.inc();
      logger.warn({ pod: message.pod, seq: message.seq.toString() }, 'batch applied after a gap: pod cleared first');
    }
  }
  metrics.admissions.inc(result.admitted);
  metrics.evictions.inc(result.evicted);
  if (result.unknownParents > 0) metrics.unknownParents.inc(result.unknownParents);
  if (result.blockSizeMismatches > 0) {
    metrics.blockSizeMismatches.inc(result.blockSizeMismatches);
    logger.warn({ pod: message.pod, count: result.blockSizeMismatches }, 'events with another block size than configured: request keys will not match');
  }
}
