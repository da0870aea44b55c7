/**
 * What GET /models says about each model: its kind, masked layers and kernels, and parameters and
 * FLOPs on a dataset's input, all computed from the one architecture description (buildArchitecture).
 */
import { maskedLayers } from './architecture.js';
import { modelCost, withoutMasks, type ModelCost } from './cost.js';
import { DATASETS, DATASET_NAMES, type DatasetName } from './datasets.js';
import { MODEL_NAMES, SMALL_WIDTH, type ModelName } from './names.js';
import { buildArchitecture, isCnnSplitterFamily, parseModelName, standardBaselineLr } from './zoo.js';

export interface ModelDescription {
  name: ModelName;
  family: string;
  kind: 'paper' | 'small';
  widthMultiplier: number;
  description: string;
  /** Every dataset works: the architecture adapts to its input shape (pools that would go below 1 px are skipped). */
  datasets: DatasetName[];
  inputShapes: [number, number, number][];
  maskedLayers: number;
  maskedKernels: number;
  /** On `dataset`: the modular model (with mask generators), the same without them, and the standard baseline. */
  dataset: DatasetName;
  modular: ModelCost;
  withoutMasks: ModelCost;
  standard: ModelCost & { description: string; lr: number };
}

const FAMILY_DESCRIPTIONS: Record<string, string> = {
  vgg16: 'VGG16-BN: 13 convs (the first unmasked), FC 512 -> ReLU -> Dropout -> FC 512 -> ReLU -> Dropout -> FC.',
  simcnn: "CNNSplitter's SimCNN: 13 convs (the first with a bias and no BN, unmasked), Dropout -> FC 512 -> ReLU -> Dropout -> FC 512 -> ReLU -> FC.",
  resnet18: 'CIFAR ResNet18: unmasked 3x3 stem, 8 basic blocks whose two convs and 1x1 downsample shortcuts are masked, global average pooling, FC.',
  rescnn:
    "CNNSplitter's ResCNN: 12 convs (the first with a bias and no BN, unmasked), 5 max pools, residual adds after the ReLU of convs 3, 7 and 11 (no ReLU after the add), Flatten -> Dropout(0.5) -> FC.",
};

function standardDescription(family: string): string {
  return isCnnSplitterFamily(family as Parameters<typeof isCnnSplitterFamily>[0])
    ? "CNNSplitter's standard network, as the reference uses it: the same layers with no BatchNorm at all (every conv has a bias) and no masks, trained at CNNSplitter's lr 0.01." +
        (family === 'simcnn' ? ' Its convs take He init over the kernel taps that see their input (on 28x28 data its last convs run on 1x1 maps).' : '')
    : 'The same network without mask generators (BatchNorm kept), as in the reference.';
}

export function describeModel(name: ModelName, dataset: DatasetName): ModelDescription {
  const [family, small] = parseModelName(name);
  const { inputShape, numClasses } = DATASETS[dataset];
  const shape: [number, number, number] = [...inputShape];
  const modular = buildArchitecture(name, shape, numClasses, { modular: true });
  const layers = maskedLayers(modular);
  return {
    name,
    family,
    kind: small ? 'small' : 'paper',
    widthMultiplier: small ? SMALL_WIDTH : 1,
    description: `${FAMILY_DESCRIPTIONS[family]}${small ? ' At 1/8 of the paper widths (at least 4 channels a layer).' : ''}`,
    datasets: [...DATASET_NAMES],
    inputShapes: [...new Set(DATASET_NAMES.map((d) => DATASETS[d].inputShape.join('x')))].map((s) => s.split('x').map(Number) as [number, number, number]),
    maskedLayers: layers.length,
    maskedKernels: layers.reduce((sum, layer) => sum + layer.kernels, 0),
    dataset,
    modular: modelCost(modular),
    withoutMasks: modelCost(withoutMasks(modular)),
    standard: { ...modelCost(buildArchitecture(name, shape, numClasses, { modular: false })), description: standardDescription(family), lr: standardBaselineLr(name) },
  };
}

export function describeModels(dataset: DatasetName): ModelDescription[] {
  return MODEL_NAMES.map((name) => describeModel(name, dataset));
}
