/**
 * @mwt/catalog: what the service offers (datasets, models, defaults), with no dependency at all,
 * so that the API validates and describes jobs without installing tfjs or the native addon.
 */
export * from './names';
