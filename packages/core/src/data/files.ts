/** Where on disk the file-based datasets (CIFAR-10, SVHN) are looked for. */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

export interface FileDatasetOptions {
  /** Default: env MWT_DATA_DIR, else ./data. */
  dataDir?: string;
}

/** `dataDir` option, else env MWT_DATA_DIR, else ./data, as an absolute path. */
export function resolveDataDir(dataDir?: string): string {
  return resolve(dataDir ?? process.env.MWT_DATA_DIR ?? './data');
}

/**
 * The directories searched, in order: the dataset's own subfolder first (the layout the
 * official archives extract to), then the data directory itself.
 */
export function candidateDirs(dataDir: string, subfolder: string): string[] {
  return [join(dataDir, subfolder), dataDir];
}

/** The first candidate directory holding every one of `fileNames`, or undefined. */
export function findDirWith(dirs: string[], fileNames: string[]): string | undefined {
  return dirs.find((dir) => fileNames.every((name) => existsSync(join(dir, name))));
}
