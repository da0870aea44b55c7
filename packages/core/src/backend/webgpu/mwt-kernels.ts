/**
 * MwT's fused training BatchNorm (+ mask + ReLU) and its gradient, and the SGD update, as WGSL kernels
 * on the webgpu backend (contracts in kernel-names.ts). The SGD update is 2 dispatches per
 * parameter instead of 6 tfjs kernels. Composed of tfjs ops, as on the backends without the
 * kernel, one masked layer costs ~15 kernels forward and ~25 backward, several of them matmuls with
 * a diagonal [C, C] matrix (which suit wasm's GEMMs, not a GPU); here it is 4 forward and 5 backward.
 * The mask gate and the pair similarity work on small [batch, kernels] matrices and stay composed of
 * tfjs ops here; the per-kernel profile of scripts/gpu-check.sh shows what they cost on a GPU.
 */
import * as tf from '@tensorflow/tfjs';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { MWT_BATCH_NORM_TRAIN, MWT_BATCH_NORM_TRAIN_GRAD, MWT_SGD_UPDATE } from '../../kernel-names.js';
import {
  ApplyProgram,
  GradFinalProgram,
  GradPartialProgram,
  InputGradProgram,
  MaskGradProgram,
  reductionParts,
  StatsFinalProgram,
  StatsPartialProgram,
} from './batch-norm-programs.js';
import { SgdProgram } from './sgd-programs.js';
import { requireInput } from './kernel-args.js';

interface BatchNormAttrs {
  relu: boolean;
  epsilon: number;
}

function shapeUniforms(z: tf.TensorInfo, parts: number, epsilon: number): Array<{ type: string; data: number[] }> {
  const [batch, height, width, channels] = z.shape;
  return [
    { type: 'int32', data: [batch * height * width] },
    { type: 'int32', data: [channels] },
    { type: 'int32', data: [height * width] },
    { type: 'int32', data: [parts] },
    { type: 'float32', data: [epsilon] },
  ];
}

const input = (inputs: tf.NamedTensorInfoMap, name: string): tf.TensorInfo => requireInput('MwT kernel', inputs, name);

function attrsOf(attrs: tf.NamedAttrMap): BatchNormAttrs {
  return { relu: attrs.relu === true, epsilon: Number(attrs.epsilon) };
}

function batchNormTrain({ inputs, backend, attrs }: { inputs: tf.NamedTensorInfoMap; backend: {}; attrs?: tf.NamedAttrMap }): tf.TensorInfo[] {
  const gpu = backend as WebGPUBackend;
  const [z, gamma, beta] = ['z', 'gamma', 'beta'].map((name) => input(inputs, name));
  const mask = inputs.mask;
  const { relu, epsilon } = attrsOf(attrs ?? {});
  const [batch, height, width, channels] = z.shape;
  const parts = reductionParts(batch * height * width, channels);
  const uniforms = shapeUniforms(z, parts, epsilon);
  const partial = gpu.runWebGPUProgram(new StatsPartialProgram(parts, channels), [z], 'float32', uniforms);
  const mean = gpu.runWebGPUProgram(new StatsFinalProgram(channels, 0), [partial, z], 'float32', uniforms);
  const variance = gpu.runWebGPUProgram(new StatsFinalProgram(channels, 1), [partial], 'float32', uniforms);
  gpu.disposeData(partial.dataId);
  const masked = mask !== undefined;
  const out = gpu.runWebGPUProgram(new ApplyProgram(z.shape, relu, masked), [z, gamma, beta, mean, variance, ...(mask ? [mask] : [])], 'float32', uniforms);
  return [out, mean, variance];
}

function batchNormTrainGrad({ inputs, backend, attrs }: { inputs: tf.NamedTensorInfoMap; backend: {}; attrs?: tf.NamedAttrMap }): tf.TensorInfo[] {
  const gpu = backend as WebGPUBackend;
  const [dOut, z, gamma, beta, mean, variance] = ['dOut', 'z', 'gamma', 'beta', 'mean', 'variance'].map((name) => input(inputs, name));
  const mask = inputs.mask;
  const { relu, epsilon } = attrsOf(attrs ?? {});
  const [batch, height, width, channels] = z.shape;
  const parts = reductionParts(batch * height * width, channels);
  const uniforms = shapeUniforms(z, parts, epsilon);
  const masked = mask !== undefined;
  // Inputs in the order the programs declare them (forwardInputs): z, [gamma], [beta], mean, variance, extra, [mask].
  const forward = (withGamma: boolean, withBeta: boolean, extra: tf.TensorInfo[], withMask: boolean): tf.TensorInfo[] => [
    z,
    ...(withGamma ? [gamma] : []),
    ...(withBeta ? [beta] : []),
    mean,
    variance,
    ...extra,
    ...(withMask && mask ? [mask] : []),
  ];
  const partial = gpu.runWebGPUProgram(new GradPartialProgram(parts, channels, relu, masked), [dOut, ...forward(relu, relu, [], true)], 'float32', uniforms);
  const dBeta = gpu.runWebGPUProgram(new GradFinalProgram(channels, 0), [partial], 'float32', uniforms);
  const dGamma = gpu.runWebGPUProgram(new GradFinalProgram(channels, 1), [partial], 'float32', uniforms);
  gpu.disposeData(partial.dataId);
  const dz = gpu.runWebGPUProgram(new InputGradProgram(z.shape, relu, masked), [dOut, ...forward(true, relu, [dBeta, dGamma], true)], 'float32', uniforms);
  if (!masked) return [dz, dGamma, dBeta];
  const dMask = gpu.runWebGPUProgram(new MaskGradProgram(batch, channels, relu), [dOut, ...forward(true, true, [], false)], 'float32', uniforms);
  return [dz, dGamma, dBeta, dMask];
}

function sgdUpdate({ inputs, backend, attrs }: { inputs: tf.NamedTensorInfoMap; backend: {}; attrs?: tf.NamedAttrMap }): tf.TensorInfo[] {
  const gpu = backend as WebGPUBackend;
  const [param, velocity, grad] = ['param', 'velocity', 'grad'].map((name) => input(inputs, name));
  const { lr, momentum, weightDecay, nesterov } = attrs ?? {};
  const uniforms = [lr, momentum, weightDecay].map((value) => ({ type: 'float32', data: [Number(value)] }));
  const run = (output: 'param' | 'velocity') => gpu.runWebGPUProgram(new SgdProgram(param.shape, output, nesterov === true), [param, velocity, grad], 'float32', uniforms);
  return [run('param'), run('velocity')];
}

/** Storage buffers (inputs and output) of the widest program: the masked input gradient. */
export const MWT_KERNELS_STORAGE_BUFFERS = 10;

let registered = false;

export function registerWebgpuMwtKernels(backendName: string): void {
  if (registered) return;
  registered = true;
  tf.registerKernel({ kernelName: MWT_BATCH_NORM_TRAIN, backendName, kernelFunc: batchNormTrain });
  tf.registerKernel({ kernelName: MWT_BATCH_NORM_TRAIN_GRAD, backendName, kernelFunc: batchNormTrainGrad });
  tf.registerKernel({ kernelName: MWT_SGD_UPDATE, backendName, kernelFunc: sgdUpdate });
}
