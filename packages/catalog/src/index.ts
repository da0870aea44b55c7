/**
 * @mwt/catalog: what the service offers (datasets, models, defaults) and the arithmetic over
 * architecture descriptions (masked kernels, parameters, FLOPs), with no dependency at all, so that
 * the API validates and describes jobs without installing tfjs or the native addon.
 */
export * from './names';
export * from './datasets';
export * from './architecture';
export * from './shapes';
export * from './param-specs';
export * from './cost';
export * from './zoo';
export * from './models';
export * from './memory';
