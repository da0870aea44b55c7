import { disposeModel, modularizeModel, type Dataset, type Model, type Modularization } from '@mwt/core';
import { SYSTEM_PRINCIPAL } from '@mwt/db';
import type { JobContext, PhaseProgress } from '../context.js';
import { InputError } from '../errors.js';
import { loadModel } from '../store.js';
import { augmentOf, dataSpecOf, type DatasetCache } from './datasets.js';
import { storeClassModules, storeModuleSet } from './module-artifacts.js';
import { loadModularization } from './stored-modularization.js';

export interface ModularizedRun {
  modularizationId: string;
  modularization: Modularization;
}

/**
 * Cuts a completed modular run into one module per class and stores the modularization, its
 * class modules (masks, sizes, a downloadable pruned network each) and the module set (the modular
 * model + every mask). Idempotent per job: a retry finds the stored modularization; one interrupted
 * while storing rewrites the same artifact rows (ids derived from the job) and creates the
 * modularization with all its modules in one statement.
 */
export async function modularizePhase(
  ctx: JobContext,
  datasets: DatasetCache,
  input: { runId: string; threshold: number; model?: Model; dataset?: Dataset },
  progress: PhaseProgress,
): Promise<ModularizedRun> {
  const { db, jobId } = ctx;
  const existing = await db.modularizations.findIdOfJob(SYSTEM_PRINCIPAL, jobId);
  if (existing) return { modularizationId: existing, modularization: await loadModularization(ctx, existing) };

  const run = await db.runs.find(SYSTEM_PRINCIPAL, input.runId);
  if (!run) throw new InputError(`params.runId: run ${input.runId} does not exist`);
  if (run.kind !== 'modular') throw new InputError(`params.runId: run ${input.runId} is a ${run.kind} run; modularize a modular run`);
  if (run.status !== 'completed' || !run.modelArtifactId) throw new InputError(`params.runId: run ${input.runId} is ${run.status}, not completed`);
  const dataset = input.dataset ?? (await datasets.get(dataSpecOf(run.config)));
  const model = input.model ?? (await loadModel(db.blobs, run.modelArtifactId));
  try {
    await progress.report(0, { message: `collecting masks of ${dataset.train.count} training samples` }, true);
    const result = await modularizeModel(model, dataset, input.threshold, { spec: augmentOf(run.config, dataset), seed: dataSpecOf(run.config).seed });
    await progress.report(0.5, { message: 'storing modules' }, true);
    const source = { run, model, dataset, threshold: input.threshold };
    const artifactId = await storeModuleSet(ctx, source, result);
    const modules = await storeClassModules(ctx, source, result, progress);
    const modularizationId = await db.modularizations.store({
      jobId,
      runId: run.id,
      threshold: result.threshold,
      krr: result.krr,
      cohesion: result.cohesion,
      coupling: result.coupling,
      layers: result.layers.map(({ name, kernels, offset }) => ({ name, kernels, offset })),
      artifactId,
      wallMs: result.wallMs,
      modules,
    });
    return { modularizationId, modularization: result };
  } finally {
    if (!input.model) disposeModel(model);
  }
}
