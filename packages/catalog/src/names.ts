/**
 * The names users pass in job payloads, with no TensorFlow import, so that the API process
 * can validate requests without loading tfjs. Everything here is public API.
 */

export const DATASETS = {
  mnist: { numClasses: 10, inputShape: [28, 28, 1] as [number, number, number] },
  cifar10: { numClasses: 10, inputShape: [32, 32, 3] as [number, number, number] },
  svhn: { numClasses: 10, inputShape: [32, 32, 3] as [number, number, number] },
} as const;
export type DatasetName = keyof typeof DATASETS;
export const DATASET_NAMES = Object.keys(DATASETS) as DatasetName[];

/** Model families of the paper. */
export const MODEL_FAMILIES = ['vgg16', 'resnet18', 'simcnn', 'rescnn'] as const;
export type ModelFamily = (typeof MODEL_FAMILIES)[number];

/** Width multiplier of the `-small` variants: 1/8 of the paper's channels (at least 4 per layer). */
export const SMALL_WIDTH = 0.125;

/** `family` (the paper's widths) or `family-small` (SMALL_WIDTH of them). */
export const MODEL_NAMES = MODEL_FAMILIES.flatMap((family) => [family, `${family}-small`]) as ModelName[];
export type ModelName = ModelFamily | `${ModelFamily}-small`;

export function isDatasetName(value: string): value is DatasetName {
  return (DATASET_NAMES as string[]).includes(value);
}

export function isModelName(value: string): value is ModelName {
  return (MODEL_NAMES as string[]).includes(value);
}

/** Defaults of the paper (MWT.md, section 2) and of the module reuse step (section 4). */
export const PAPER_DEFAULTS = {
  alpha: 0.5,
  beta: 1.5,
  lr: 0.05,
  momentum: 0.9,
  batchSize: 128,
  threshold: 0.9,
  reuseEpochs: 10,
} as const;
