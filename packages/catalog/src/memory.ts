/**
 * An upper-ish estimate of a training job's peak resident memory, from its architecture, batch
 * size and dataset: pure arithmetic over the same architecture description the workers train, so
 * that the API can refuse a job that would exhaust a worker before any worker runs it.
 *
 * Peak = fixed overhead (node, the tfjs runtime, the native addon)
 *      + the dataset in memory (float32 NHWC, train and test)
 *      + parameter state (weights, gradients, momentum, a checkpoint copy)
 *      + one batch's activations that the backward pass keeps (tfjs's tape holds every op's
 *        inputs and outputs until the gradients are computed), plus the gradients in flight.
 * The constants were calibrated against measured peak RSS (VmHWM) on the native backend; the
 * calibration table is in the README section "Memory budget".
 */
import { hasBatchNorm, residualKernels, type Architecture } from './architecture.js';
import { countTrainable } from './param-specs.js';
import { traceShapes } from './shapes.js';

const FLOAT_BYTES = 4;
export const MB = 1024 * 1024;

/**
 * Node, V8 heaps, tfjs and the native backend's libraries and thread pools: the measured peak RSS
 * of two steps of the small models (whose parameters and activations are a few MB) was 275-300 MB.
 */
export const FIXED_OVERHEAD_BYTES = 300 * MB;

/** Weights, their gradients, SGD momentum and the checkpoint copy written after each epoch. */
const PARAM_COPIES = 4;

/**
 * Float tensors kept per output element of one layer during a training step. A conv with BN keeps
 * its output, BN's centred and normalized values and output, the mask product and the ReLU output
 * (and its mask generator's small tensors); without BN: output, bias add, ReLU. The backward pass
 * then allocates gradients of the same sizes before the tape's tensors are released; and the
 * allocator does not hand freed blocks back to the system at once. Calibrated (see the file comment).
 */
const SAVED_PER_BN_CONV = 6;
const SAVED_PER_PLAIN_CONV = 4;
const SAVED_PER_POOL = 2;
const SAVED_PER_DENSE = 2;

export interface MemoryEstimateInput {
  arch: Architecture;
  batchSize: number;
  /** Samples held in memory: the training (sub)set and the test (sub)set. */
  trainSamples: number;
  testSamples: number;
}

export interface MemoryEstimate {
  totalBytes: number;
  overheadBytes: number;
  datasetBytes: number;
  paramBytes: number;
  activationBytes: number;
}

/** Floats one sample's training step keeps alive at its peak, layer by layer. */
export function activationFloatsPerSample(arch: Architecture): number {
  const [h, w, c] = arch.inputShape;
  let floats = h * w * c;
  for (const { block, output } of traceShapes(arch)) {
    const size = output[0] * output[1] * output[2];
    switch (block.type) {
      case 'conv':
        floats += size * (hasBatchNorm(block) ? SAVED_PER_BN_CONV : SAVED_PER_PLAIN_CONV);
        break;
      case 'residual': {
        const perConv = hasBatchNorm(block) ? SAVED_PER_BN_CONV : SAVED_PER_PLAIN_CONV;
        const inner = output[0] * output[1] * block.innerFilters;
        const kernels = residualKernels(block);
        // conv1 and conv2, the projection (if any), then the add, the activation after it and the
        // gradient that the backward pass splits between the two paths.
        floats += inner * perConv + size * perConv + (kernels.shortcut > 0 ? size * perConv : 0) + size * 3;
        break;
      }
      case 'maxPool':
      case 'globalAvgPool':
        floats += size * SAVED_PER_POOL;
        break;
      case 'dense':
      case 'head':
        floats += size * SAVED_PER_DENSE;
        break;
      case 'flatten':
        break;
    }
  }
  return floats;
}

export function estimateTrainingMemory({ arch, batchSize, trainSamples, testSamples }: MemoryEstimateInput): MemoryEstimate {
  const [h, w, c] = arch.inputShape;
  const datasetBytes = (trainSamples + testSamples) * (h * w * c * FLOAT_BYTES + FLOAT_BYTES);
  const paramBytes = countTrainable(arch) * FLOAT_BYTES * PARAM_COPIES;
  const activationBytes = activationFloatsPerSample(arch) * batchSize * FLOAT_BYTES;
  const overheadBytes = FIXED_OVERHEAD_BYTES;
  return { totalBytes: overheadBytes + datasetBytes + paramBytes + activationBytes, overheadBytes, datasetBytes, paramBytes, activationBytes };
}

/** "9.6 GB" / "850 MB": how a limit or an estimate is shown to a client. */
export function formatBytes(bytes: number): string {
  return bytes >= 1024 * MB ? `${(bytes / (1024 * MB)).toFixed(1)} GB` : `${Math.round(bytes / MB)} MB`;
}
