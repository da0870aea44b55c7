/** Shape tracing lives in @mwt/catalog, beside the architecture descriptions it walks. */
export { gateHiddenUnits, traceShapes } from '@mwt/catalog';
export type { Shape3, TracedBlock } from '@mwt/catalog';
