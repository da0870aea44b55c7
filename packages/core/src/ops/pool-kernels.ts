/**
 * Pooling kernels of MwT's own, registered by backends that implement them (webgpu); ops use their
 * portable formulation where they are absent.
 *
 *   MwtGlobalAvgPoolGrad   { dy: [B, C] } { height, width } -> [dx: [B, height, width, C] = dy / (height * width), broadcast]
 */
export const MWT_GLOBAL_AVG_POOL_GRAD = 'MwtGlobalAvgPoolGrad';

export interface GlobalAvgPoolGradAttrs {
  height: number;
  width: number;
}
