/**
 * @mwt/core: modularizing-while-training (MwT) in TypeScript on tfjs.
 * No HTTP, queue or database code lives here; the API and the workers build on this.
 */
export * from './catalog.js';
export * from './backend/select.js';
export * from './data/index.js';
export * from './model/params.js';
export * from './model/model.js';
export * from './model/forward.js';
export * from './train/losses.js';
export * from './train/sgd.js';
export * from './train/evaluate.js';
export * from './train/trainer.js';
export * from './train/step.js';
export * from './modularize/bitset.js';
export * from './modularize/sample-masks.js';
export * from './modularize/modularizer.js';
export * from './reuse/prune.js';
export * from './reuse/reuse.js';
export * from './artifacts/files.js';
export * from './artifacts/layers-model.js';
export * from './artifacts/artifact.js';
export * from './artifacts/tensor-bundle.js';
export { conv2d } from './ops/conv2d.js';
export * from './pipeline.js';
