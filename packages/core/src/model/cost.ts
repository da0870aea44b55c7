/** Parameter and FLOP counting live in @mwt/catalog (pure arithmetic over an architecture). */
export { countFlops, modelCost, withoutMasks } from '@mwt/catalog';
export type { ModelCost } from '@mwt/catalog';
