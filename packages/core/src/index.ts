/**
 * @mwt/core: modularizing-while-training (MwT) in TypeScript on tfjs.
 * No HTTP, queue or database code lives here; the API and the workers build on this.
 */
export * from './catalog';
export * from './backend/select';
export * from './data/index';
export * from './model/params';
export * from './model/model';
export * from './model/forward';
export * from './train/losses';
export * from './train/sgd';
export * from './train/evaluate';
export * from './train/trainer';
export * from './train/step';
export * from './modularize/bitset';
export * from './modularize/sample-masks';
export * from './modularize/modularizer';
export * from './reuse/prune';
export * from './reuse/reuse';
export * from './artifacts/files';
export * from './artifacts/layers-model';
export * from './artifacts/artifact';
export * from './artifacts/tensor-bundle';
export { conv2d } from './ops/conv2d';
export * from './pipeline';
