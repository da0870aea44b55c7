/** Architecture descriptions live in @mwt/catalog (the API counts kernels, parameters and FLOPs without tfjs). */
export { hasBatchNorm, isModular, maskedConvNames, residualKernels } from '@mwt/catalog';
export type { Architecture, Block, ConvBlock, DenseBlock, FlattenBlock, GlobalAvgPoolBlock, HeadBlock, MaxPoolBlock, ResidualBlock } from '@mwt/catalog';
