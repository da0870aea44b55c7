import type { Architecture } from './architecture.js';
import { disposeParams, initParams, type ParamStore } from './params.js';

/** An architecture with its parameters: what trainers, the modularizer and the exporter work on. */
export interface Model {
  arch: Architecture;
  params: ParamStore;
}

export function createModel(arch: Architecture, seed: number): Model {
  return { arch, params: initParams(arch, seed) };
}

export function disposeModel(model: Model): void {
  disposeParams(model.params);
}
