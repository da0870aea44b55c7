/**
 * The names users pass in job payloads, with no TensorFlow import, so that the API process
 * can validate requests without loading tfjs. Everything here is public API.
 */

/** Model families of the paper. */
export const MODEL_FAMILIES = ['vgg16', 'resnet18', 'simcnn', 'rescnn'] as const;
export type ModelFamily = (typeof MODEL_FAMILIES)[number];

/** Width multiplier of the `-small` variants: 1/8 of the paper's channels (at least 4 per layer). */
export const SMALL_WIDTH = 0.125;

/** `family` (the paper's widths) or `family-small` (SMALL_WIDTH of them). */
export const MODEL_NAMES = MODEL_FAMILIES.flatMap((family) => [family, `${family}-small`]) as ModelName[];
export type ModelName = ModelFamily | `${ModelFamily}-small`;

export function isModelName(value: string): value is ModelName {
  return (MODEL_NAMES as string[]).includes(value);
}

/**
 * Defaults of the paper and of the authors' reference implementation (MWT.md sections 2, 4 and 6):
 * module fine-tuning uses the training lr and batch size, cosine over 2x its epochs; no weight decay.
 */
export const PAPER_DEFAULTS = {
  alpha: 0.5,
  beta: 1.5,
  lr: 0.05,
  momentum: 0.9,
  weightDecay: 0,
  batchSize: 128,
  threshold: 0.9,
  reuseEpochs: 10,
  reuseLr: 0.05,
} as const;
