/**
 * Checks JSON Schema cannot express: class ids within the dataset, and referenced runs and
 * modularizations that exist (404), have finished (409) and are of the right kind (400).
 * Messages name the field, as validation errors do. Another key's run or modularization is
 * not found, exactly like an unknown id.
 */
import type { Database } from '@mwt/db';
import { isDatasetName } from '@mwt/catalog';
import { checkTargetClasses, type ReuseParams, type TypedJob } from '@mwt/shared';
import type { Principal } from '../auth/principal.js';
import { HttpError } from '../errors.js';

type RunKind = 'modular' | 'standard';

async function requireRun(db: Database, principal: Principal, field: string, id: string, kind: RunKind) {
  const run = await db.runs.find(principal, id);
  if (!run) throw new HttpError(404, `${field}: run ${id} not found`);
  if (run.kind !== kind) throw new HttpError(400, `${field}: run ${id} is a ${run.kind} run, not a ${kind} run`);
  if (run.status !== 'completed') throw new HttpError(409, `${field}: run ${id} is ${run.status}, not completed`);
  return run;
}

function requireClasses(field: string, dataset: string, classes: readonly number[]) {
  if (!isDatasetName(dataset)) throw new HttpError(409, `${field}: unknown dataset ${dataset}`);
  const problem = checkTargetClasses(field, dataset, classes);
  if (problem) throw new HttpError(400, problem);
}

async function checkReuse(db: Database, principal: Principal, p: ReuseParams) {
  const modz = await db.modularizations.findForReuse(principal, p.modularizationId);
  if (!modz) throw new HttpError(404, `params.modularizationId: modularization ${p.modularizationId} not found`);
  const dataset = modz.run.dataset;
  requireClasses('params.targetClasses', dataset, p.targetClasses);
  const available = new Set(modz.modules.flatMap((m) => m.classes));
  const missing = p.targetClasses.findIndex((c) => !available.has(c));
  if (missing >= 0) {
    const c = p.targetClasses[missing];
    throw new HttpError(409, `params.targetClasses[${missing}]: modularization ${modz.id} has no module for class ${c}`);
  }
  if (p.standardRunId) {
    const standard = await requireRun(db, principal, 'params.standardRunId', p.standardRunId, 'standard');
    if (standard.dataset !== dataset) {
      throw new HttpError(400, `params.standardRunId: run ${standard.id} was trained on ${standard.dataset}, the modules on ${dataset}`);
    }
  }
}

export async function checkReferences(db: Database, principal: Principal, job: TypedJob): Promise<void> {
  switch (job.type) {
    case 'modularize':
      await requireRun(db, principal, 'params.runId', job.params.runId, 'modular');
      return;
    case 'reuse':
      return checkReuse(db, principal, job.params);
    case 'pipeline': {
      requireClasses('params.targetClasses', job.params.dataset, job.params.targetClasses);
      return;
    }
    default:
      return;
  }
}
