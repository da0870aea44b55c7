import type { Dataset, Model } from '@mwt/core';
import { SYSTEM_PRINCIPAL } from '@mwt/db';
import type { ReuseParams } from '@mwt/shared';
import type { JobContext } from '../context.js';
import { InputError } from '../errors.js';
import { loadModel } from '../store.js';

/** Fails the job once when a target class is not one of the dataset's (a retry cannot fix it). */
export function checkTargetClasses(params: ReuseParams, dataset: Dataset): void {
  for (const [i, c] of params.targetClasses.entries()) {
    if (c >= dataset.numClasses) throw new InputError(`params.targetClasses[${i}]: class ${c} does not exist in ${dataset.name} (${dataset.numClasses} classes)`);
  }
}

/** The completed standard run `runId`'s model, trained on `dataset`: the baseline a reused module is compared with. */
export async function standardModel(ctx: JobContext, runId: string, dataset: string): Promise<Model> {
  const run = await ctx.db.runs.find(SYSTEM_PRINCIPAL, runId);
  if (!run) throw new InputError(`params.standardRunId: run ${runId} does not exist`);
  if (run.kind !== 'standard') throw new InputError(`params.standardRunId: run ${runId} is a ${run.kind} run, not a standard one`);
  if (run.status !== 'completed' || !run.modelArtifactId) throw new InputError(`params.standardRunId: run ${runId} is ${run.status}, not completed`);
  if (run.dataset !== dataset) throw new InputError(`params.standardRunId: run ${runId} was trained on ${run.dataset}, the modules on ${dataset}`);
  return loadModel(ctx.db.blobs, run.modelArtifactId);
}
