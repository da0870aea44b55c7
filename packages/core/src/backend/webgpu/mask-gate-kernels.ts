/**
 * MwT's mask generator after its pooling (and the pooling's gradient, below), mask = ReLU(tanh(ReLU(pooled @ w1) @ w2 + b2)), and its
 * gradient as WGSL kernels on the webgpu backend (MwtMaskGate, MwtMaskGateGrad: the contracts of
 * ops/fused-kernels.ts, the maths of ops/mask-gate.ts). Composed of tfjs ops, a masked layer's gate
 * costs 6 kernels forward and ~20 backward, each with its tape entry and the engine's clone of every
 * tensor it saves; here it is 2 programs forward and 6 backward, and one tape entry. The matrices are
 * small ([batch, inputs <= 512] x [inputs, hidden] x [hidden, kernels <= 512]): one thread per output
 * element, looping over the shared axis.
 */
import * as tf from '@tensorflow/tfjs';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { MWT_MASK_GATE, MWT_MASK_GATE_GRAD } from '../../kernel-names.js';
import { MWT_GLOBAL_AVG_POOL, MWT_GLOBAL_AVG_POOL_GRAD } from '../../kernel-names.js';
import { intUniforms, ThreadPerOutputProgram } from './elementwise-program.js';
import { requireInput, type KernelArgs } from './kernel-args.js';

const DIMS = 'batch : i32, inputs : i32, hidden : i32, kernels : i32,';

/** tanh as tfjs' webgpu kernel computes it: exp of a non-positive argument only, so never inf/inf. */
const TANH = `fn stableTanh(a : f32) -> f32 { let e = exp(-2.0 * abs(a)); return sign(a) * (1.0 - e) / (1.0 + e); }`;

/** hidden[b, h] = ReLU(sum_i pooled[b, i] w1[i, h]) */
const hiddenProgram = (batch: number, hidden: number) =>
  new ThreadPerOutputProgram(
    'mwtGateHidden',
    [batch, hidden],
    ['Pooled', 'W1'],
    DIMS,
    `
    let b = i / uniforms.hidden;
    let h = i % uniforms.hidden;
    var total = 0.0;
    for (var k = 0; k < uniforms.inputs; k++) { total += Pooled[b * uniforms.inputs + k] * W1[k * uniforms.hidden + h]; }
    result[i] = max(total, 0.0);`,
  );

/** mask[b, k] = ReLU(tanh(sum_h hidden[b, h] w2[h, k] + b2[k])) */
const maskProgram = (batch: number, kernels: number) =>
  new ThreadPerOutputProgram(
    'mwtGateMask',
    [batch, kernels],
    ['Hidden', 'W2', 'B2'],
    DIMS,
    `
    let b = i / uniforms.kernels;
    let k = i % uniforms.kernels;
    var total = B2[k];
    for (var h = 0; h < uniforms.hidden; h++) { total += Hidden[b * uniforms.hidden + h] * W2[h * uniforms.kernels + k]; }
    result[i] = max(stableTanh(total), 0.0);`,
    TANH,
  );

/**
 * The gradient at the gate's pre-activation: dMask through ReLU (mask > 0, which is tanh > 0) and
 * tanh (1 - tanh^2, and tanh = mask where the ReLU passes).
 */
const D_PRE = `fn dPre(index : i32) -> f32 { let m = Mask[index]; return select(0.0, DMask[index] * (1.0 - m * m), m > 0.0); }`;

/** dHidden[b, h] = (sum_k dPre[b, k] w2[h, k]) * (hidden[b, h] > 0) */
const hiddenGradProgram = (batch: number, hidden: number) =>
  new ThreadPerOutputProgram(
    'mwtGateHiddenGrad',
    [batch, hidden],
    ['DMask', 'Mask', 'Hidden', 'W2'],
    DIMS,
    `
    let b = i / uniforms.hidden;
    let h = i % uniforms.hidden;
    var total = 0.0;
    for (var k = 0; k < uniforms.kernels; k++) { total += dPre(b * uniforms.kernels + k) * W2[h * uniforms.kernels + k]; }
    result[i] = select(0.0, total, Hidden[i] > 0.0);`,
    D_PRE,
  );

/** dW2[h, k] = sum_b hidden[b, h] dPre[b, k] */
const w2GradProgram = (hidden: number, kernels: number) =>
  new ThreadPerOutputProgram(
    'mwtGateW2Grad',
    [hidden, kernels],
    ['DMask', 'Mask', 'Hidden'],
    DIMS,
    `
    let h = i / uniforms.kernels;
    let k = i % uniforms.kernels;
    var total = 0.0;
    for (var b = 0; b < uniforms.batch; b++) { total += Hidden[b * uniforms.hidden + h] * dPre(b * uniforms.kernels + k); }
    result[i] = total;`,
    D_PRE,
  );

/** dB2[k] = sum_b dPre[b, k] */
const b2GradProgram = (kernels: number) =>
  new ThreadPerOutputProgram(
    'mwtGateB2Grad',
    [kernels],
    ['DMask', 'Mask'],
    DIMS,
    `
    var total = 0.0;
    for (var b = 0; b < uniforms.batch; b++) { total += dPre(b * uniforms.kernels + i); }
    result[i] = total;`,
    D_PRE,
  );

/** dW1[n, h] = sum_b pooled[b, n] dHidden[b, h] */
const w1GradProgram = (inputs: number, hidden: number) =>
  new ThreadPerOutputProgram(
    'mwtGateW1Grad',
    [inputs, hidden],
    ['Pooled', 'DHidden'],
    DIMS,
    `
    let n = i / uniforms.hidden;
    let h = i % uniforms.hidden;
    var total = 0.0;
    for (var b = 0; b < uniforms.batch; b++) { total += Pooled[b * uniforms.inputs + n] * DHidden[b * uniforms.hidden + h]; }
    result[i] = total;`,
  );

/** dPooled[b, n] = sum_h dHidden[b, h] w1[n, h] */
const pooledGradProgram = (batch: number, inputs: number) =>
  new ThreadPerOutputProgram(
    'mwtGatePooledGrad',
    [batch, inputs],
    ['DHidden', 'W1'],
    DIMS,
    `
    let b = i / uniforms.inputs;
    let n = i % uniforms.inputs;
    var total = 0.0;
    for (var h = 0; h < uniforms.hidden; h++) { total += DHidden[b * uniforms.hidden + h] * W1[n * uniforms.hidden + h]; }
    result[i] = total;`,
  );

const input = (inputs: tf.NamedTensorInfoMap, name: string): tf.TensorInfo => requireInput(MWT_MASK_GATE, inputs, name);

function dims(pooled: tf.TensorInfo, w1: tf.TensorInfo, w2: tf.TensorInfo) {
  const [batch, inputs] = pooled.shape;
  const [hidden, kernels] = w2.shape;
  if (w1.shape[0] !== inputs || w1.shape[1] !== hidden) throw new Error(`webgpu ${MWT_MASK_GATE}: w1 is [${w1.shape}], expected [${inputs}, ${hidden}]`);
  return { batch, inputs, hidden, kernels, uniforms: intUniforms(batch, inputs, hidden, kernels) };
}

function maskGate({ inputs, backend }: KernelArgs): tf.TensorInfo[] {
  const gpu = backend as WebGPUBackend;
  const [pooled, w1, w2, b2] = ['pooled', 'w1', 'w2', 'b2'].map((name) => input(inputs, name));
  const { batch, hidden, kernels, uniforms } = dims(pooled, w1, w2);
  const h = gpu.runWebGPUProgram(hiddenProgram(batch, hidden), [pooled, w1], 'float32', uniforms);
  const mask = gpu.runWebGPUProgram(maskProgram(batch, kernels), [h, w2, b2], 'float32', uniforms);
  gpu.disposeData(h.dataId);
  return [mask];
}

function maskGateGrad({ inputs, backend }: KernelArgs): tf.TensorInfo[] {
  const gpu = backend as WebGPUBackend;
  const [dMask, mask, pooled, w1, w2] = ['dMask', 'mask', 'pooled', 'w1', 'w2'].map((name) => input(inputs, name));
  const { batch, inputs: width, hidden, kernels, uniforms } = dims(pooled, w1, w2);
  // The hidden activations are recomputed (one small program) rather than kept from the forward pass.
  const h = gpu.runWebGPUProgram(hiddenProgram(batch, hidden), [pooled, w1], 'float32', uniforms);
  const dHidden = gpu.runWebGPUProgram(hiddenGradProgram(batch, hidden), [dMask, mask, h, w2], 'float32', uniforms);
  const dW2 = gpu.runWebGPUProgram(w2GradProgram(hidden, kernels), [dMask, mask, h], 'float32', uniforms);
  const dB2 = gpu.runWebGPUProgram(b2GradProgram(kernels), [dMask, mask], 'float32', uniforms);
  const dW1 = gpu.runWebGPUProgram(w1GradProgram(width, hidden), [pooled, dHidden], 'float32', uniforms);
  const dPooled = gpu.runWebGPUProgram(pooledGradProgram(batch, width), [dHidden, w1], 'float32', uniforms);
  gpu.disposeData(h.dataId);
  gpu.disposeData(dHidden.dataId);
  return [dPooled, dW1, dW2, dB2];
}

/**
 * The gradient of the gate's global average pooling (ops/global-avg-pool.ts): dx[b, y, x, c] =
 * dy[b, c] / (height * width), one program where tfjs' ops take a division, a reshape and a tile.
 */
function globalAvgPoolGrad({ inputs, backend, attrs = {} }: KernelArgs): tf.TensorInfo {
  const gpu = backend as WebGPUBackend;
  const dy = input(inputs, 'dy');
  const [batch, channels] = dy.shape;
  const height = Number(attrs.height);
  const width = Number(attrs.width);
  const program = new ThreadPerOutputProgram(
    'mwtGlobalAvgPoolGrad',
    [batch, height, width, channels],
    ['Dy'],
    'pixels : i32, channels : i32,',
    `
    let c = i % uniforms.channels;
    let b = i / (uniforms.pixels * uniforms.channels);
    result[i] = Dy[b * uniforms.channels + c] / f32(uniforms.pixels);`,
  );
  return gpu.runWebGPUProgram(program, [dy], 'float32', intUniforms(height * width, channels));
}

/** The mean over H and W of NHWC x, one thread per (b, c): reads coalesce across channels. */
function globalAvgPool({ inputs, backend }: KernelArgs): tf.TensorInfo {
  const gpu = backend as WebGPUBackend;
  const x = input(inputs, 'x');
  const [batch, height, width, channels] = x.shape;
  const program = new ThreadPerOutputProgram(
    'mwtGlobalAvgPool',
    [batch, channels],
    ['X'],
    'pixels : i32, channels : i32,',
    `
    let c = i % uniforms.channels;
    let first = (i / uniforms.channels) * uniforms.pixels * uniforms.channels + c;
    var total = 0.0;
    for (var p = 0; p < uniforms.pixels; p++) { total += X[first + p * uniforms.channels]; }
    result[i] = total / f32(uniforms.pixels);`,
  );
  return gpu.runWebGPUProgram(program, [x], 'float32', intUniforms(height * width, channels));
}

let registered = false;

export function registerWebgpuMaskGateKernels(backendName: string): void {
  if (registered) return;
  registered = true;
  tf.registerKernel({ kernelName: MWT_MASK_GATE, backendName, kernelFunc: maskGate });
  tf.registerKernel({ kernelName: MWT_MASK_GATE_GRAD, backendName, kernelFunc: maskGateGrad });
  tf.registerKernel({ kernelName: MWT_GLOBAL_AVG_POOL_GRAD, backendName, kernelFunc: globalAvgPoolGrad });
  tf.registerKernel({ kernelName: MWT_GLOBAL_AVG_POOL, backendName, kernelFunc: globalAvgPool });
}
