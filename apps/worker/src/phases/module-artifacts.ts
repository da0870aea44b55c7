import { disposeModel, maskToString, modelCost, pruneModel, withoutMasks, type Dataset, type Model, type Modularization } from '@mwt/core';
import type { NewModularization, Run } from '@mwt/db';
import type { JobContext, PhaseProgress } from '../context.js';
import { storeModel } from '../store.js';

/** What the artifacts of a modularization share: where the run's model came from. */
interface Source {
  run: Pick<Run, 'id' | 'backend'>;
  model: Model;
  dataset: Dataset;
  threshold: number;
}

const common = ({ run, dataset }: Source) => ({ dataset: dataset.name, preprocessing: dataset.preprocessing, backend: run.backend ?? undefined });
const allClasses = (dataset: Dataset) => ({ outputClasses: dataset.classNames.map((_, i) => i), outputClassNames: dataset.classNames });

/** Stores the module set (the modular model + every mask) of a modularization; returns its artifact id. */
export function storeModuleSet(ctx: JobContext, source: Source, result: Modularization): Promise<string> {
  const { run, model, dataset, threshold } = source;
  const metrics = { krr: result.krr, cohesion: result.cohesion, coupling: result.coupling };
  const savedModules = result.modules.map((m) => ({ classId: m.classId, mask: maskToString(m.mask), keptKernels: m.keptKernels, retention: m.retention }));
  return storeModel(ctx.db.blobs, { jobId: ctx.jobId, key: 'module-set' }, 'module_set', `module-set-${run.id}.tar`, model, {
    ...common(source),
    kind: 'module-set',
    ...allClasses(dataset),
    hyperParameters: { runId: run.id, threshold },
    metrics,
    modularization: { threshold: result.threshold, ...metrics, layers: result.layers, modules: savedModules },
  });
}

/**
 * Stores one downloadable network per class module: the pruned network with the model's own outputs
 * (no head, no fine-tuning), the building block that reuse combines with others. Returns the rows
 * of the class modules, for the modularization to be created with.
 */
export async function storeClassModules(ctx: JobContext, source: Source, result: Modularization, progress: PhaseProgress): Promise<NewModularization['modules']> {
  const { run, model, dataset, threshold } = source;
  const { jobId } = ctx;
  const full = modelCost(withoutMasks(model.arch));
  const modules: NewModularization['modules'] = [];
  for (const module of result.modules) {
    const pruned = pruneModel(model, result.layers, module.mask);
    try {
      const artifactId = await storeModel(ctx.db.blobs, { jobId, key: `class-module:${module.classId}` }, 'module', `module-class${module.classId}-${run.id}.tar`, pruned, {
        ...common(source),
        kind: 'module',
        ...allClasses(dataset),
        hyperParameters: { runId: run.id, threshold, classes: [module.classId] },
        metrics: { retention: module.retention },
        moduleMask: maskToString(module.mask),
      });
      const cost = modelCost(pruned.arch);
      modules.push({
        jobId,
        kind: 'class',
        classes: [module.classId],
        keptKernels: module.keptKernels,
        totalKernels: result.totalKernels,
        kernelRetention: module.retention,
        mask: Buffer.from(module.mask),
        params: cost.params,
        flops: BigInt(cost.flops),
        fullParams: full.params,
        fullFlops: BigInt(full.flops),
        artifactId,
      });
    } finally {
      disposeModel(pruned);
    }
    await progress.report(0.5 + (0.5 * modules.length) / result.modules.length);
  }
  return modules;
}
