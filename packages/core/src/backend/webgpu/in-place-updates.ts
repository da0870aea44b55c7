/**
 * The in-place updates of ops/in-place-kernels.ts on the webgpu backend: the SGD update of every
 * parameter (and its velocity), and the BatchNorm running statistics, written into the variables'
 * own buffers. Through tfjs, each variable costs a kernel call, two programs (one per output: a tfjs
 * program writes one buffer), two new tensors and two assigns; here all variables of a kind are one
 * compute pass of our own, one dispatch per variable, and one queue submit, with no tensor made.
 *
 * Order with tfjs' own work: the backend records its programs into a command encoder that it submits
 * in batches; ours is submitted after it (its pass ended and submitted first), so the pass reads the gradients that
 * the pending programs write, and programs recorded later see the updated values. Settings (lr, ...)
 * go into a uniform buffer written just before our submit (writeBuffer takes effect in queue order).
 */
import * as tf from '@tensorflow/tfjs';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { MWT_RUNNING_STATS_IN_PLACE, MWT_SGD_UPDATE_IN_PLACE } from '../../kernel-names.js';
import { type KernelArgs } from './kernel-args.js';

const WORKGROUP = 64;
/** Uniform bindings must start at multiples of this (WebGPU's minUniformBufferOffsetAlignment default). */
const SLOT_BYTES = 256;

/** Element index from a 2-D dispatch (a 1-D one is capped at 65,535 workgroups). */
const INDEX = `let i = id.x + id.y * n.x * ${WORKGROUP}u;`;
const MAIN = `@compute @workgroup_size(${WORKGROUP}) fn main(@builtin(global_invocation_id) id : vec3<u32>, @builtin(num_workgroups) n : vec3<u32>)`;

/** The maths of SgdProgram (sgd-programs.ts), both outputs at once. */
function sgdShader(nesterov: boolean): string {
  return `
    struct Settings { lr : f32, momentum : f32, weightDecay : f32, unused : f32 }
    @group(0) @binding(0) var<storage, read_write> param : array<f32>;
    @group(0) @binding(1) var<storage, read_write> velocity : array<f32>;
    @group(0) @binding(2) var<storage, read> grad : array<f32>;
    @group(0) @binding(3) var<uniform> settings : Settings;
    ${MAIN} {
      ${INDEX}
      if (i >= arrayLength(&param)) { return; }
      let p = param[i];
      let d = grad[i] + settings.weightDecay * p;
      let v = settings.momentum * velocity[i] + d;
      velocity[i] = v;
      param[i] = p - settings.lr * (${nesterov ? 'd + settings.momentum * v' : 'v'});
    }`;
}

/** running = running * (1 - momentum) + batch * momentum, the variance made unbiased first (train/step.ts). */
const RUNNING_STATS_SHADER = `
    struct Settings { keep : f32, momentum : f32, correction : f32, unused : f32 }
    @group(0) @binding(0) var<storage, read_write> runningMean : array<f32>;
    @group(0) @binding(1) var<storage, read_write> runningVariance : array<f32>;
    @group(0) @binding(2) var<storage, read> mean : array<f32>;
    @group(0) @binding(3) var<storage, read> variance : array<f32>;
    @group(0) @binding(4) var<uniform> settings : Settings;
    ${MAIN} {
      ${INDEX}
      if (i >= arrayLength(&runningMean)) { return; }
      runningMean[i] = runningMean[i] * settings.keep + mean[i] * settings.momentum;
      runningVariance[i] = runningVariance[i] * settings.keep + variance[i] * settings.correction * settings.momentum;
    }`;

/** One pipeline per shader, and a uniform buffer that grows to the largest pass seen. */
class InPlacePass {
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  private settings: GPUBuffer | undefined;

  constructor(private readonly backend: WebGPUBackend) {}

  /**
   * Runs `shader` once per item: item i binds `buffers[i]` in order (read_write ones first, as the
   * shader declares them), then its settings (4 floats), and covers the first buffer's elements.
   */
  run(shader: string, items: Array<{ data: tf.TensorInfo[]; settings: number[] }>): void {
    const { backend } = this;
    const device = backend.device;
    for (const item of items) for (const t of item.data) backend.uploadToGPU(t.dataId);
    // tfjs' pending programs (those that computed the gradients) go first: end its pass, submit.
    backend.ensureCommandEncoderReady();
    backend.endComputePassEncoder();
    backend.submitQueue();
    const pipeline = this.pipeline(shader);
    const settings = this.settingsBuffer(items.length * SLOT_BYTES);
    const values = new Float32Array((items.length * SLOT_BYTES) / 4);
    items.forEach((item, i) => values.set(item.settings, (i * SLOT_BYTES) / 4));
    device.queue.writeBuffer(settings, 0, values);
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    pass.setPipeline(pipeline);
    const limit = device.limits.maxComputeWorkgroupsPerDimension;
    items.forEach((item, index) => {
      const entries: GPUBindGroupEntry[] = item.data.map((t, binding) => ({ binding, resource: this.binding(t) }));
      entries.push({ binding: entries.length, resource: { buffer: settings, offset: index * SLOT_BYTES, size: 16 } });
      pass.setBindGroup(0, device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries }));
      const groups = Math.ceil(tf.util.sizeFromShape(item.data[0].shape) / WORKGROUP);
      const x = Math.min(groups, limit);
      pass.dispatchWorkgroups(x, Math.ceil(groups / x));
    });
    pass.end();
    device.queue.submit([encoder.finish()]);
    // The values a read may have cached on the CPU are now stale.
    for (const item of items) for (const t of item.data) this.invalidateCpuCopy(t.dataId);
  }

  private binding(t: tf.TensorInfo): GPUBufferBinding {
    const resource = this.backend.tensorMap.get(t.dataId).resource;
    if (resource === undefined || !('getMappedRange' in resource)) throw new Error('webgpu in-place update: a variable is not in a GPU buffer');
    // The tensor's exact extent: arrayLength() in the shader is then its element count.
    return { buffer: resource, offset: 0, size: tf.util.sizeFromShape(t.shape) * 4 };
  }

  private invalidateCpuCopy(dataId: tf.DataId): void {
    // tfjs clears it the same way after an upload; its type declaration omits the null.
    Reflect.set(this.backend.tensorMap.get(dataId), 'values', null);
  }

  private pipeline(code: string): GPUComputePipeline {
    let pipeline = this.pipelines.get(code);
    if (pipeline === undefined) {
      const device = this.backend.device;
      pipeline = device.createComputePipeline({ layout: 'auto', compute: { module: device.createShaderModule({ code }), entryPoint: 'main' } });
      this.pipelines.set(code, pipeline);
    }
    return pipeline;
  }

  private settingsBuffer(bytes: number): GPUBuffer {
    if (this.settings === undefined || this.settings.size < bytes) {
      this.settings?.destroy();
      this.settings = this.backend.device.createBuffer({ size: bytes, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
    }
    return this.settings;
  }
}

function numbered(inputs: tf.NamedTensorInfoMap, names: string[], count: number): tf.TensorInfo[][] {
  return Array.from({ length: count }, (_, i) =>
    names.map((name) => {
      const t = inputs[`${name}${i}`];
      if (t === undefined || t.dtype !== 'float32') throw new Error(`webgpu in-place update: float32 input ${name}${i} missing`);
      return t;
    }),
  );
}

const passes = new WeakMap<WebGPUBackend, InPlacePass>();
function passOf(backend: WebGPUBackend): InPlacePass {
  let pass = passes.get(backend);
  if (pass === undefined) passes.set(backend, (pass = new InPlacePass(backend)));
  return pass;
}

function sgdUpdateInPlace({ inputs, backend, attrs = {} }: KernelArgs): tf.TensorInfo[] {
  const { count, lr, momentum, weightDecay, nesterov } = attrs;
  const items = numbered(inputs, ['param', 'velocity', 'grad'], Number(count)).map((data) => ({ data, settings: [Number(lr), Number(momentum), Number(weightDecay)] }));
  if (items.length > 0) passOf(backend as WebGPUBackend).run(sgdShader(nesterov === true), items);
  return [];
}

function runningStatsInPlace({ inputs, backend, attrs = {} }: KernelArgs): tf.TensorInfo[] {
  const momentum = Number(attrs.momentum);
  const corrections = attrs.corrections;
  if (!Array.isArray(corrections)) throw new Error(`${MWT_RUNNING_STATS_IN_PLACE}: corrections must be an array`);
  const items = numbered(inputs, ['runningMean', 'runningVariance', 'mean', 'variance'], Number(attrs.count)).map((data, i) => ({
    data,
    settings: [1 - momentum, momentum, Number(corrections[i])],
  }));
  if (items.length > 0) passOf(backend as WebGPUBackend).run(RUNNING_STATS_SHADER, items);
  return [];
}

let registered = false;

export function registerWebgpuInPlaceKernels(backendName: string): void {
  if (registered) return;
  registered = true;
  tf.registerKernel({ kernelName: MWT_SGD_UPDATE_IN_PLACE, backendName, kernelFunc: sgdUpdateInPlace });
  tf.registerKernel({ kernelName: MWT_RUNNING_STATS_IN_PLACE, backendName, kernelFunc: runningStatsInPlace });
}
