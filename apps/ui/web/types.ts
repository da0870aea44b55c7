/** The API's views as the dashboard reads them (apps/api/src/schemas: JobView, RunView, ...). */

export const JOB_STATES = ['queued', 'running', 'completed', 'failed', 'cancelled'] as const;
export type JobState = (typeof JOB_STATES)[number];
export const JOB_TYPES = ['train-modular', 'train-standard', 'modularize', 'reuse', 'pipeline'] as const;
export type JobType = (typeof JOB_TYPES)[number];
export const FINISHED: readonly JobState[] = ['completed', 'failed', 'cancelled'];

/** What GET /jobs/:id/events sends as `state` and `end`. */
export interface JobStatus {
  id: string;
  state: JobState;
  progress: number;
  phase: string | null;
  epoch: number | null;
  totalEpochs: number | null;
  message: string | null;
  error: string | null;
}

/** What the worker publishes; GET /jobs/:id/events sends it as `progress`. */
export interface Progress {
  percent: number;
  phase: string;
  epoch?: number;
  totalEpochs?: number;
  batch?: number;
  totalBatches?: number;
  message?: string;
}

export interface JobView extends JobStatus {
  type: JobType;
  params: Record<string, unknown>;
  result: Record<string, string | number | null> | null;
  cancelRequested: boolean;
  attempts: number;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
  runs: string[];
  modularizations: string[];
  modules: string[];
}

export interface JobList {
  items: JobView[];
  nextCursor: string | null;
}

export type RunKind = 'modular' | 'standard' | 'module';

export interface RunView {
  id: string;
  jobId: string;
  kind: RunKind;
  dataset: string;
  model: string;
  config: Record<string, unknown>;
  status: JobState;
  backend: string | null;
  epochsDone: number;
  trainAccuracy: number | null;
  testAccuracy: number | null;
  wallMs: number | null;
  params: number | null;
  flops: number | null;
  createdAt: string;
  finishedAt: string | null;
}

export interface MetricView {
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
  createdAt: string;
}

export interface RunMetrics {
  runId: string;
  metrics: MetricView[];
}

export interface ModuleView {
  id: string;
  jobId: string;
  modularizationId: string;
  kind: 'class' | 'reused';
  classes: number[];
  keptKernels: number;
  totalKernels: number;
  kernelRetention: number;
  params: number | null;
  flops: number | null;
  fullParams: number | null;
  fullFlops: number | null;
  accuracy: number | null;
  standardAccuracy: number | null;
  accuracyLoss: number | null;
  runId: string | null;
  artifactId: string | null;
  createdAt: string;
  links: { download: string | null };
}

export interface LayerKernels {
  name: string;
  kernels: number;
  offset: number;
}

export interface ModularizationView {
  id: string;
  jobId: string;
  runId: string;
  threshold: number;
  krr: number;
  cohesion: number;
  coupling: number;
  layers: LayerKernels[];
  artifactId: string | null;
  wallMs: number;
  createdAt: string;
  modules: string[];
  links: { download: string | null };
}

/** metadata.json inside every artifact (packages/core/src/artifacts/artifact.ts), the parts used here. */
export interface ArtifactMetadata {
  format: string;
  kind: 'model' | 'module-set' | 'module';
  dataset: string;
  inputShape: [number, number, number];
  preprocessing: { scale: number; mean: number[]; std: number[] };
  outputClasses: number[];
  outputClassNames: string[];
  modularization?: { layers: LayerKernels[]; modules: { classId: number; mask: string }[] };
}
