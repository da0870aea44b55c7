/**
 * Publishes a job's per-epoch metrics into the queue's event stream (see @mwt/shared live-events),
 * where API processes pick them up for the jobs' event streams and for /metrics (samples/s per worker).
 * One producer per worker process, opened on first use from the worker's configuration. Like
 * progress, these events are a courtesy: training neither waits for Redis nor fails with it (the
 * metric rows in PostgreSQL are the record).
 */
import { QueueEventsProducer } from 'bullmq';
import { Redis } from 'ioredis';
import type { EpochMetrics } from '@mwt/core';
import { EPOCH_METRICS_EVENT, readConfig, type EpochMetricsData, type EpochMetricsPayload } from '@mwt/shared';
import { WORKER_NAME } from './identity.js';


let producer: QueueEventsProducer | undefined;

function open(): QueueEventsProducer {
  if (!producer) {
    const config = readConfig();
    const connection = new Redis(config.redisUrl, { maxRetriesPerRequest: 1 });
    connection.on('error', () => undefined); // ioredis reconnects; a lost event is superseded by the rows
    producer = new QueueEventsProducer(config.queueName, { connection, prefix: config.queuePrefix });
    producer.on('error', () => undefined);
  }
  return producer;
}

export function publishEpochMetrics(jobId: string, metrics: EpochMetricsData, trainingSamples: number | null): void {
  const samplesPerSecond = trainingSamples && metrics.durationMs > 0 ? trainingSamples / (metrics.durationMs / 1000) : null;
  const payload: EpochMetricsPayload = { metrics, worker: WORKER_NAME, samplesPerSecond };
  open()
    .publishEvent({ eventName: EPOCH_METRICS_EVENT, jobId, data: JSON.stringify(payload) })
    .catch(() => undefined);
}

/** The metric row's series as the event carries them (those a standard run lacks are null, as in the row). */
export function epochMetricsData(runId: string, runKind: EpochMetricsData['runKind'], m: EpochMetrics): EpochMetricsData {
  const { epoch, lr, trainAccuracy, testAccuracy, loss, ceLoss, durationMs } = m;
  const optional = (value: number | undefined) => value ?? null;
  return {
    runId, runKind, epoch, lr, trainAccuracy, testAccuracy, loss, ceLoss,
    cohesionLoss: optional(m.cohesionLoss),
    couplingLoss: optional(m.couplingLoss),
    kernelRate: optional(m.kernelRate),
    batchCohesion: optional(m.batchCohesion),
    batchCoupling: optional(m.batchCoupling),
    durationMs,
  };
}
