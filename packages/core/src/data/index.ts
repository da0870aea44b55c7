/** Public surface of the data layer: datasets as plain typed arrays, no tfjs. */
export * from './dataset.js';
export * from './errors.js';
export * from './split.js';
export * from './normalize.js';
export * from './mat5.js';
export * from './planar.js';
export * from './mnist.js';
export * from './cifar10.js';
export * from './svhn.js';
export * from './idx.js';
export * from './augment.js';
export * from './idx-datasets.js';
export * from './load.js';
export type { FileDatasetOptions } from './files.js';
export { resolveDataDir } from './files.js';
