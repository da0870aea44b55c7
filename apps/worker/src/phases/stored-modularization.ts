import type { MaskedLayer, Modularization } from '@mwt/core';
import { SYSTEM_PRINCIPAL } from '@mwt/db';
import type { JobContext } from '../context.js';
import { InputError } from '../errors.js';

/** Rebuilds a stored modularization (layers and class module masks): what the modularize phase stored and reuse combines. */
export async function loadModularization(ctx: JobContext, id: string): Promise<Modularization> {
  const row = await ctx.db.modularizations.findWithClassModules(SYSTEM_PRINCIPAL, id);
  if (!row) throw new InputError(`params.modularizationId: modularization ${id} does not exist`);
  const layers = row.layers as unknown as MaskedLayer[];
  const totalKernels = layers.reduce((n, l) => n + l.kernels, 0);
  const modules = row.modules
    .map((m) => ({ classId: m.classes[0], mask: new Uint8Array(m.mask), keptKernels: m.keptKernels, retention: m.kernelRetention, layerThresholds: [] }))
    .sort((a, b) => a.classId - b.classId);
  return { threshold: row.threshold, layers, totalKernels, modules, krr: row.krr, cohesion: row.cohesion, coupling: row.coupling };
}
