/**
 * Database rows -> API views. Dates become ISO strings, BigInt counters numbers (FLOPs of
 * these models stay far below 2^53), Postgres enum spellings the API's, bytes are left out.
 */
import type { ApiKeyRecord, EpochMetric, JobWithChildIds, Modularization, ModuleRecord, Run } from '@mwt/db';
import { fromDbJobType, type JobParams, type JobResult, type JobType } from '@mwt/shared';
import type { JobStatus, JobView } from './schemas/job.js';
import type { ApiKeyView } from './schemas/keys.js';
import type { MetricView, ModularizationView, ModuleView, RunView } from './schemas/resources.js';

const iso = (d: Date | null) => (d ? d.toISOString() : null);
const num = (b: bigint | null) => (b === null ? null : Number(b));

/** A job with its children's ids (the jobs repository reads them with it). */
export type JobRow = JobWithChildIds;

export function toJobStatus(job: Pick<JobRow, 'id' | 'state' | 'progress' | 'phase' | 'epoch' | 'totalEpochs' | 'message' | 'error'>): JobStatus {
  const { id, state, progress, phase, epoch, totalEpochs, message, error } = job;
  return { id, state, progress, phase, epoch, totalEpochs, message, error };
}

/** A job's type with its params and result, each of that type's schema. */
type StoredJob = { [T in JobType]: { type: T; params: JobParams<T>; result: JobResult<T> | null } }[JobType];

/**
 * The row's payload and result as the schemas of its type: this service wrote both (params validated
 * against the type's schema, a result returned by the type's handler), so they are trusted as such.
 */
function storedJob(type: JobType, payload: JobWithChildIds['payload'], result: JobWithChildIds['result']): StoredJob {
  return { type, params: payload, result } as StoredJob;
}

export function toJobView(job: JobRow, now = new Date()): JobView {
  const end = job.finishedAt ?? (job.state === 'running' ? now : null);
  const ids = (rows: { id: string }[]) => rows.map((r) => r.id);
  return {
    requestId: job.requestId,
    cancelRequested: job.cancelRequested,
    attempts: job.attempts,
    createdAt: job.createdAt.toISOString(),
    startedAt: iso(job.startedAt),
    finishedAt: iso(job.finishedAt),
    durationMs: job.startedAt && end ? end.getTime() - job.startedAt.getTime() : null,
    runs: ids(job.runs),
    modularizations: ids(job.modularizations),
    modules: ids(job.modules),
    links: {
      self: `/jobs/${job.id}`,
      events: `/jobs/${job.id}/events`,
      runs: job.runs.map((r) => `/runs/${r.id}`),
      modularizations: job.modularizations.map((m) => `/modularizations/${m.id}`),
      modules: job.modules.map((m) => `/modules/${m.id}`),
    },
    // The spreads last: V8 (Node 20) adds every property that follows a spread one at a time, on a
    // slow path. With the type, params and result spread first, this view took 24-27 µs (a status
    // poll costs the API 210-300 µs of CPU in all), 2.5 µs so. Job views go out through
    // JSON.stringify (plain-json.ts), so these keys come last in the JSON too.
    ...toJobStatus(job),
    ...storedJob(fromDbJobType(job.type), job.payload, job.result),
  };
}

const download = (artifactId: string | null) => (artifactId ? `/artifacts/${artifactId}/download` : null);

export function toRunView(run: Run): RunView {
  return {
    ...run,
    config: run.config as Record<string, unknown>,
    flops: num(run.flops),
    createdAt: run.createdAt.toISOString(),
    finishedAt: iso(run.finishedAt),
    links: {
      self: `/runs/${run.id}`,
      job: `/jobs/${run.jobId}`,
      metrics: `/runs/${run.id}/metrics`,
      modules: `/runs/${run.id}/modules`,
      model: download(run.modelArtifactId),
    },
  };
}

export function toMetricView(m: EpochMetric): MetricView {
  const { id: _id, runId: _runId, createdAt, ...series } = m;
  return { ...series, createdAt: createdAt.toISOString() };
}

export function toModuleView(m: ModuleRecord): ModuleView {
  return {
    ...m,
    flops: num(m.flops),
    fullFlops: num(m.fullFlops),
    createdAt: m.createdAt.toISOString(),
    links: {
      self: `/modules/${m.id}`,
      download: m.artifactId ? `/modules/${m.id}/download` : null,
      modularization: `/modularizations/${m.modularizationId}`,
      run: m.runId ? `/runs/${m.runId}` : null,
    },
  };
}

export function toModularizationView(m: Modularization & { modules: { id: string }[] }): ModularizationView {
  const { modules, ...rest } = m;
  return {
    ...rest,
    layers: m.layers as ModularizationView['layers'],
    createdAt: m.createdAt.toISOString(),
    modules: modules.map((x) => x.id),
    links: {
      self: `/modularizations/${m.id}`,
      job: `/jobs/${m.jobId}`,
      run: `/runs/${m.runId}`,
      modules: `/runs/${m.runId}/modules`,
      download: download(m.artifactId),
    },
  };
}

/** Field by field, so that a row read with its secretHash can never leak it. */
export function toApiKeyView(key: ApiKeyRecord): ApiKeyView {
  const { id, name, prefix, scopes, createdAt, revokedAt, lastUsedAt } = key;
  return { id, name, prefix, scopes, createdAt: createdAt.toISOString(), revokedAt: iso(revokedAt), lastUsedAt: iso(lastUsedAt) };
}
