/** The zoo's architectures are built in @mwt/catalog: one description of each network for every consumer. */
export { buildArchitecture, parseModelName } from '@mwt/catalog';
export type { ZooOptions } from '@mwt/catalog';
