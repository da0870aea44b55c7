/** Public surface of the data layer: datasets as plain typed arrays, no tfjs. */
export * from './dataset';
export * from './errors';
export * from './split';
export * from './normalize';
export * from './mat5';
export * from './planar';
export * from './mnist';
export * from './cifar10';
export * from './svhn';
export * from './idx';
export * from './augment';
export * from './idx-datasets';
export * from './load';
export type { FileDatasetOptions } from './files';
export { resolveDataDir } from './files';
