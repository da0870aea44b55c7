import { DATASETS, type DatasetName, type Preprocessing } from '../catalog.js';
export type { DatasetName, Preprocessing };

/** A set of samples, NHWC float32, already preprocessed; labels are class ids 0..numClasses-1. */
export interface Split {
  images: Float32Array;
  labels: Int32Array;
  count: number;
}

export interface Dataset {
  name: DatasetName;
  /** [height, width, channels] */
  inputShape: [number, number, number];
  numClasses: number;
  classNames: string[];
  preprocessing: Preprocessing;
  train: Split;
  test: Split;
}

/** A Dataset of a catalog name: shape and class count from the catalog, fresh copies of the constants. */
export function makeDataset(name: DatasetName, classNames: readonly string[], preprocessing: Preprocessing, train: Split, test: Split): Dataset {
  const { inputShape, numClasses } = DATASETS[name];
  return { name, inputShape: [...inputShape], numClasses, classNames: [...classNames], preprocessing: structuredClone(preprocessing), train, test };
}
