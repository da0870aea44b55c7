/**
 * Events that workers add to the queue's BullMQ event stream (`<prefix>:<queue>:events`), next to
 * BullMQ's own (progress, active, completed, failed, removed): every API process already reads that
 * one stream for its job event streams, so one Redis subscription per API process carries them all,
 * in order, with the stream's entry ids. Fields of a stream entry are strings: the payload is JSON.
 */

/** One finished training epoch of one run of a job (after its metric row is stored). */
export const EPOCH_METRICS_EVENT = 'mwt:epoch-metrics';

export interface EpochMetricsData {
  runId: string;
  runKind: 'modular' | 'standard' | 'module';
  epoch: number;
  lr: number;
  trainAccuracy: number;
  testAccuracy: number;
  loss: number;
  ceLoss: number;
  cohesionLoss: number | null;
  couplingLoss: number | null;
  kernelRate: number | null;
  batchCohesion: number | null;
  batchCoupling: number | null;
  durationMs: number;
}

/** What the stream entry carries besides the event name and jobId. */
export interface EpochMetricsPayload {
  metrics: EpochMetricsData;
  /** The worker (`host:pid`) that trained the epoch, and its training samples per second (null when unknown). */
  worker: string;
  samplesPerSecond: number | null;
}
