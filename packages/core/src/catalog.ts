/** The catalog lives in @mwt/catalog (dependency-free, shared with the API); core re-exports it. */
export * from '@mwt/catalog';
