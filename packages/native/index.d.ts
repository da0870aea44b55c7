/** Absolute path of the compiled addon. */
export declare const addonPath: string;
/** The addon's exports (typed by @mwt/core's backend/native/addon.ts). Throws when it was not built. */
export declare function loadKernels(): unknown;
