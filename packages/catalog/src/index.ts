/**
 * @mwt/catalog: what the service offers (datasets, models, defaults) and the arithmetic over
 * architecture descriptions (masked kernels, parameters, FLOPs), with no dependency at all, so that
 * the API validates and describes jobs without installing tfjs or the native addon.
 */
export * from './names.js';
export * from './datasets.js';
export * from './architecture.js';
export * from './shapes.js';
export * from './param-specs.js';
export * from './cost.js';
export * from './zoo.js';
export * from './models.js';
export * from './memory.js';
