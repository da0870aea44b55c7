/** GET /models and GET /datasets: what the service offers, computed from @mwt/catalog. */
import Type, { type Static } from 'typebox';
import { ref } from './common.js';
import { AUGMENTATIONS, DATASET_NAMES, MODEL_NAMES } from '@mwt/catalog';

const Shape = Type.Array(Type.Integer({ minimum: 1 }), { minItems: 3, maxItems: 3, description: '[height, width, channels]' });
const Cost = Type.Object({
  params: Type.Integer({ description: 'Trainable parameters.' }),
  flops: Type.Integer({ description: 'Multiply-accumulates of one forward pass of one sample.' }),
});

export const ModelInfo = Type.Object(
  {
    name: Type.Enum(MODEL_NAMES),
    family: Type.String(),
    kind: Type.Enum(['paper', 'small'], { description: '`paper`: the widths of the paper; `small`: the same structure at 1/8 width.' }),
    widthMultiplier: Type.Number(),
    description: Type.String(),
    datasets: Type.Array(Type.Enum(DATASET_NAMES), { description: 'Datasets it accepts (the architecture adapts to their input shapes).' }),
    inputShapes: Type.Array(Shape),
    maskedLayers: Type.Integer({ description: 'Layers with a mask generator in the modular model.' }),
    maskedKernels: Type.Integer({ description: 'Kernels of those layers: the length of a module mask.' }),
    dataset: Type.Enum(DATASET_NAMES, { description: 'The dataset the costs below are for.' }),
    modular: Cost,
    withoutMasks: Cost,
    standard: Type.Object({
      ...Cost.properties,
      description: Type.String({ description: 'What the standard baseline is.' }),
      lr: Type.Number({ description: "Its default learning rate (train-standard's lr, a pipeline's standardLr)." }),
    }),
  },
  { $id: 'Model', description: 'A model of the zoo, with its costs on one dataset.' },
);

export const ModelList = Type.Object({ models: Type.Array(ref(ModelInfo)) }, { $id: 'ModelList' });

export const ModelsQuery = Type.Object(
  { dataset: Type.Optional(Type.Enum(DATASET_NAMES, { default: 'cifar10', description: 'Dataset whose input shape and classes the parameters and FLOPs are computed for.' })) },
  { additionalProperties: false },
);

export const DatasetInfo = Type.Object(
  {
    name: Type.Enum(DATASET_NAMES),
    title: Type.String(),
    numClasses: Type.Integer(),
    classNames: Type.Array(Type.String()),
    inputShape: Shape,
    trainSize: Type.Integer({ description: 'Training samples of the default split.' }),
    testSize: Type.Integer(),
    defaultAugment: Type.Enum(AUGMENTATIONS, { description: 'What `augment` a training job gets when it names none.' }),
    preprocessing: Type.Object({ scale: Type.Number(), mean: Type.Array(Type.Number()), std: Type.Array(Type.Number()) }),
    input: Type.String({ description: 'How a raw 0..255 pixel becomes a model input.' }),
    available: Type.Boolean({ description: 'Whether the dataset can be loaded on the API host.' }),
    bundled: Type.Boolean({ description: 'Ships with the service (no files to provide).' }),
    files: Type.Optional(
      Type.Object({
        required: Type.Array(Type.String(), { description: 'Each required file, as its accepted names.' }),
        foundIn: Type.Union([Type.String(), Type.Null()]),
        missing: Type.Array(Type.String()),
        searchedDirs: Type.Array(Type.String()),
        howToGet: Type.String(),
      }),
    ),
  },
  { $id: 'Dataset', description: 'A dataset: classes, shapes, sizes, and whether this host has its files.' },
);

export const DatasetList = Type.Object(
  { dataDir: Type.String({ description: 'The data directory (MWT_DATA_DIR, else ./data).' }), datasets: Type.Array(ref(DatasetInfo)) },
  { $id: 'DatasetList' },
);

export type ModelInfo = Static<typeof ModelInfo>;
export type DatasetInfo = Static<typeof DatasetInfo>;

/** Every component of this file, for app.addSchema. */
export const CATALOG_COMPONENTS = [ModelInfo, ModelList, DatasetInfo, DatasetList];
