import * as tf from '@tensorflow/tfjs';
import { hasBatchNorm, residualKernels, type Architecture, type ResidualBlock } from '../model/architecture.js';
import { BN_EPSILON, BN_MOMENTUM, type ParamStore } from '../model/params.js';
import { gateHiddenUnits } from '../model/shapes.js';
import { scatterMatrix } from '../model/forward.js';

/**
 * Builds a tfjs LayersModel out of standard Keras layers only (Conv2D, BatchNormalization, Dense,
 * GlobalAveragePooling2D, Reshape, Multiply, Add, ...), so that a downloaded model or module loads
 * with a plain `tf.loadLayersModel` in Node or a browser, no custom layer to register. It computes
 * what `forward(..., { training: false })` computes; the mask generator is spelled as
 * GAP -> Dense(relu, no bias) -> Dense(tanh) -> ReLU -> Reshape -> Multiply. Layer names derive
 * from parameter names ('/' becomes '_'), which is how `paramsFromLayersModel` maps them back.
 */
export function toLayersModel(arch: Architecture, params: ParamStore): { model: tf.LayersModel; plan: WeightPlan } {
  const builder = new LayerGraph(params);
  const input = tf.input({ shape: arch.inputShape, name: 'input' });
  let h: tf.SymbolicTensor = input;
  for (const block of arch.blocks) {
    switch (block.type) {
      case 'conv':
        h = builder.relu(block.name, builder.maskedConv(block.name, h, block.kernelSize, block.stride, block.filters, block.masked, hasBatchNorm(block)));
        break;
      case 'residual':
        h = builder.residual(block, h);
        break;
      case 'maxPool':
        h = builder.apply(tf.layers.maxPooling2d({ name: block.name, poolSize: block.size, strides: block.size, padding: 'valid' }), h);
        break;
      case 'flatten':
        h = builder.apply(tf.layers.flatten({ name: block.name }), h);
        break;
      case 'globalAvgPool':
        h = builder.apply(tf.layers.globalAveragePooling2d({ name: block.name }), h);
        break;
      case 'dense':
        if (block.dropout > 0) h = builder.apply(tf.layers.dropout({ name: `${block.name}_dropout`, rate: block.dropout }), h);
        h = builder.dense(block.name, h, block.units, block.relu ? 'relu' : 'linear');
        break;
      case 'head':
        h = builder.dense(block.name, builder.relu(`${block.name}_input`, h), block.units, 'linear');
        break;
    }
  }
  const model = tf.model({ inputs: input, outputs: h, name: arch.model.replace(/[^A-Za-z0-9_]/g, '_') });
  builder.assignWeights(model);
  return { model, plan: Object.fromEntries(builder.plan) };
}

export function layerName(paramPrefix: string): string {
  return paramPrefix.replace(/\//g, '_');
}

/** Parameter names of each layer, in the order the layer's `getWeights()` lists them. Saved in metadata. */
export type WeightPlan = Record<string, string[]>;

class LayerGraph {
  readonly plan = new Map<string, string[]>();
  /** Constant one-hot kernels of scatter convs, by layer name. */
  private readonly constants = new Map<string, tf.Tensor>();

  constructor(private readonly params: ParamStore) {}

  apply(layer: tf.layers.Layer, ...inputs: tf.SymbolicTensor[]): tf.SymbolicTensor {
    return layer.apply(inputs.length === 1 ? inputs[0] : inputs) as tf.SymbolicTensor;
  }

  relu(name: string, x: tf.SymbolicTensor): tf.SymbolicTensor {
    return this.apply(tf.layers.activation({ name: `${layerName(name)}_relu`, activation: 'relu' }), x);
  }

  maskedConv(prefix: string, x: tf.SymbolicTensor, kernelSize: number, stride: number, filters: number, masked: boolean, batchNorm: boolean): tf.SymbolicTensor {
    const name = layerName(prefix);
    this.plan.set(name, batchNorm ? [`${prefix}/kernel`] : [`${prefix}/kernel`, `${prefix}/bias`]);
    let y = this.apply(tf.layers.conv2d({ name, filters, kernelSize, strides: stride, padding: 'same', useBias: !batchNorm }), x);
    if (batchNorm) {
      this.plan.set(
        `${name}_bn`,
        ['gamma', 'beta', 'mean', 'variance'].map((s) => `${prefix}/bn/${s}`),
      );
      // tfjs's momentum is the weight of the old value (Keras), PyTorch's the weight of the new one.
      y = this.apply(tf.layers.batchNormalization({ name: `${name}_bn`, axis: -1, epsilon: BN_EPSILON, momentum: 1 - BN_MOMENTUM }), y);
    }
    if (!masked) return y;
    const hidden = gateHiddenUnits(filters);
    let m = this.apply(tf.layers.globalAveragePooling2d({ name: `${name}_gate_gap` }), x);
    this.plan.set(`${name}_gate_fc1`, [`${prefix}/gate/w1`]);
    m = this.apply(tf.layers.dense({ name: `${name}_gate_fc1`, units: hidden, useBias: false, activation: 'relu' }), m);
    this.plan.set(`${name}_gate_fc2`, [`${prefix}/gate/w2`, `${prefix}/gate/b2`]);
    m = this.apply(tf.layers.dense({ name: `${name}_gate_fc2`, units: filters, activation: 'tanh' }), m);
    m = this.apply(tf.layers.activation({ name: `${name}_gate_relu`, activation: 'relu' }), m);
    m = this.apply(tf.layers.reshape({ name: `${name}_gate_reshape`, targetShape: [1, 1, filters] }), m);
    return this.apply(tf.layers.multiply({ name: `${name}_masked` }), y, m);
  }

  residual(block: ResidualBlock, x: tf.SymbolicTensor): tf.SymbolicTensor {
    const batchNorm = hasBatchNorm(block);
    const kernels = residualKernels(block);
    const conv = (part: string, input: tf.SymbolicTensor, kernelSize: number, stride: number, filters: number) =>
      this.maskedConv(`${block.name}/${part}`, input, kernelSize, stride, filters, block.masked, batchNorm);
    const inner = this.relu(`${block.name}/conv1`, conv('conv1', x, 3, block.stride, block.innerFilters));
    let branch = conv('conv2', inner, 3, 1, kernels.conv2);
    if (block.activation === 'before-add') branch = this.relu(`${block.name}/conv2`, branch);
    if (block.conv2Kept) branch = this.scatter(`${block.name}_conv2_scatter`, branch, block.conv2Kept, block.filters);
    let shortcut = block.projection ? conv('shortcut', x, 1, block.stride, kernels.shortcut) : x;
    if (block.shortcutKept) shortcut = this.scatter(`${block.name}_shortcut_scatter`, shortcut, block.shortcutKept, block.filters);
    const sum = this.apply(tf.layers.add({ name: `${layerName(block.name)}_add` }), branch, shortcut);
    return block.activation === 'before-add' ? sum : this.relu(block.name, sum);
  }

  dense(prefix: string, x: tf.SymbolicTensor, units: number, activation: 'relu' | 'linear'): tf.SymbolicTensor {
    const name = layerName(prefix);
    this.plan.set(name, [`${prefix}/kernel`, `${prefix}/bias`]);
    return this.apply(tf.layers.dense({ name, units, activation }), x);
  }

  /** A frozen 1x1 conv with a one-hot kernel: places `kept.length` channels into a `width`-channel map. */
  private scatter(name: string, x: tf.SymbolicTensor, kept: number[], width: number): tf.SymbolicTensor {
    this.constants.set(
      name,
      tf.tidy(() => tf.reshape(scatterMatrix(kept, width), [1, 1, kept.length, width])),
    );
    return this.apply(tf.layers.conv2d({ name, filters: width, kernelSize: 1, useBias: false, trainable: false }), x);
  }

  assignWeights(model: tf.LayersModel): void {
    for (const layer of model.layers) {
      const constant = this.constants.get(layer.name);
      if (constant) {
        layer.setWeights([constant]);
        constant.dispose();
        continue;
      }
      const names = this.plan.get(layer.name);
      if (!names) continue;
      layer.setWeights(
        names.map((n) => {
          const v = this.params.get(n);
          if (!v) throw new Error(`missing parameter ${n} for layer ${layer.name}`);
          return v;
        }),
      );
    }
  }
}

/**
 * Reads parameters back out of a LayersModel built by `toLayersModel` (or loaded from its files),
 * using the weight plan saved beside it. Values are copied bit for bit; `trainable` says which
 * parameters are trainable (BN statistics are not).
 */
export function paramsFromLayersModel(model: tf.LayersModel, plan: WeightPlan, isTrainable: (param: string) => boolean): ParamStore {
  const store: ParamStore = new Map();
  for (const [layer, names] of Object.entries(plan)) {
    const weights = model.getLayer(layer).getWeights();
    if (weights.length !== names.length) throw new Error(`layer ${layer} has ${weights.length} weights, the plan names ${names.length}`);
    names.forEach((name, i) => store.set(name, tf.variable(weights[i], isTrainable(name))));
  }
  return store;
}
