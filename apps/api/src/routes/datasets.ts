/** GET /datasets: every dataset, its classes, shapes, sizes and default augmentation, and whether this host has it. */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { DATASET_NAMES, datasetInfo, locateDatasetFiles, type DatasetName } from '@mwt/catalog';
import { DatasetList, type DatasetInfo } from '../schemas/catalog.js';
import { RATE_LIMITED, errors, json, ref } from '../schemas/common.js';

/** The data directory as the workers resolve it (MWT_DATA_DIR, else ./data). */
function dataDir(): string {
  return resolve(process.env.MWT_DATA_DIR ?? './data');
}

function describeDataset(name: DatasetName, dir: string): DatasetInfo {
  const info = datasetInfo(name);
  const { scale, mean, std } = info.preprocessing;
  const common = {
    name,
    title: info.title,
    numClasses: info.numClasses,
    classNames: [...info.classNames],
    inputShape: [...info.inputShape],
    trainSize: info.trainSize,
    testSize: info.testSize,
    defaultAugment: info.defaultAugment,
    preprocessing: { scale, mean: [...mean], std: [...std] },
    input: `raw pixels 0..255 (not 0..1), per channel c: (pixel * ${scale} - mean[c]) / std[c]`,
  };
  if (!info.files) return { ...common, available: true, bundled: true };
  const lookup = locateDatasetFiles(info.files, dir, existsSync);
  return {
    ...common,
    available: lookup.dir !== null,
    bundled: false,
    files: {
      required: info.files.required.map((names) => names.join(' or ')),
      foundIn: lookup.dir,
      missing: lookup.missing,
      searchedDirs: lookup.searchedDirs,
      howToGet: info.files.howToGet,
    },
  };
}

const datasetRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/datasets',
    {
      schema: {
        tags: ['catalog'],
        summary: 'Datasets: classes, shapes, sizes, default augmentation, availability on this host',
        operationId: 'listDatasets',
        security: [],
        response: { 200: json(ref(DatasetList), 'Every dataset'), ...errors({ 429: RATE_LIMITED }) },
      },
    },
    async () => {
      const dir = dataDir();
      return { dataDir: dir, datasets: DATASET_NAMES.map((name) => describeDataset(name, dir)) };
    },
  );
};

export default datasetRoutes;
