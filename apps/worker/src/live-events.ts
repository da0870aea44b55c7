/**
 * Publishes a job's per-epoch metrics into the queue's event stream (see @mwt/shared live-events),
 * where API processes pick them up for the jobs' event streams and for /metrics (samples/s per worker).
 * One publisher per worker (startWorker), whose Redis connection opens on the first epoch and closes
 * with the worker. Like progress, these events are a courtesy: training neither waits for Redis nor
 * fails with it (the metric rows in PostgreSQL are the record).
 */
import { QueueEventsProducer } from 'bullmq';
import type { EpochMetrics } from '@mwt/core';
import { EPOCH_METRICS_EVENT, type Config, type EpochMetricsData, type EpochMetricsPayload } from '@mwt/shared';

export class EpochMetricsPublisher {
  private producer: QueueEventsProducer | undefined;

  constructor(
    private readonly config: Pick<Config, 'redisUrl' | 'queueName' | 'queuePrefix'>,
    /** The worker (`host:pid`) named in every event. */
    private readonly worker: string,
  ) {}

  publish(jobId: string, metrics: EpochMetricsData, trainingSamples: number | null): void {
    const samplesPerSecond = trainingSamples && metrics.durationMs > 0 ? trainingSamples / (metrics.durationMs / 1000) : null;
    const payload: EpochMetricsPayload = { metrics, worker: this.worker, samplesPerSecond };
    this.open()
      .publishEvent({ eventName: EPOCH_METRICS_EVENT, jobId, data: JSON.stringify(payload) })
      .catch(() => undefined);
  }

  async close(): Promise<void> {
    await this.producer?.close();
  }

  private open(): QueueEventsProducer {
    if (!this.producer) {
      // Options, not a client: the producer owns its connection and closes it. One retry per
      // command: a lost event is superseded by the rows.
      const { redisUrl, queueName, queuePrefix } = this.config;
      this.producer = new QueueEventsProducer(queueName, { connection: { url: redisUrl, maxRetriesPerRequest: 1 }, prefix: queuePrefix });
      this.producer.on('error', () => undefined);
    }
    return this.producer;
  }
}

/** The metric row's series as the event carries them (those a standard run lacks are null, as in the row). */
export function epochMetricsData(runId: string, runKind: EpochMetricsData['runKind'], m: EpochMetrics): EpochMetricsData {
  const { epoch, lr, trainAccuracy, testAccuracy, loss, ceLoss, durationMs } = m;
  const optional = (value: number | undefined) => value ?? null;
  return {
    runId,
    runKind,
    epoch,
    lr,
    trainAccuracy,
    testAccuracy,
    loss,
    ceLoss,
    cohesionLoss: optional(m.cohesionLoss),
    couplingLoss: optional(m.couplingLoss),
    kernelRate: optional(m.kernelRate),
    batchCohesion: optional(m.batchCohesion),
    batchCoupling: optional(m.batchCoupling),
    durationMs,
  };
}
