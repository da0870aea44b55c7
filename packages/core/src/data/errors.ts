import type { DatasetName } from './dataset.js';

/**
 * The dataset's files are not on disk. Job runners catch this to fail a job with an
 * actionable message (where to put which files) instead of a bare ENOENT.
 */
export class DatasetNotFoundError extends Error {
  override readonly name = 'DatasetNotFoundError';
  readonly dataset: DatasetName;
  /** File names (not paths) the loader accepts, in the order it looks for them. */
  readonly expectedFiles: string[];
  /** Absolute directories that were searched. */
  readonly searchedDirs: string[];

  constructor(dataset: DatasetName, expectedFiles: string[], searchedDirs: string[], message: string) {
    super(message);
    this.dataset = dataset;
    this.expectedFiles = expectedFiles;
    this.searchedDirs = searchedDirs;
  }
}
