import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { sha256, unpackTar } from '@mwt/shared';
import { apiClient } from '../client.js';
import { loadLogin } from '../config.js';
import { CliError } from '../errors.js';
import { table } from '../table.js';

interface Metric {
  epoch: number;
  lr: number;
  loss: number;
  ceLoss: number;
  trainAccuracy: number;
  testAccuracy: number;
  cohesionLoss: number | null;
  couplingLoss: number | null;
  kernelRate: number | null;
  durationMs: number;
}

interface Module {
  id: string;
  kind: string;
  classes: number[];
  keptKernels: number;
  totalKernels: number;
  kernelRetention: number;
  accuracy: number | null;
  artifactId: string | null;
}

function oneId(args: string[], usage: string) {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { json: { type: 'boolean' } } });
  if (positionals.length !== 1) throw new CliError(`usage: ${usage}`, 2);
  return { id: encodeURIComponent(positionals[0]), json: values.json === true };
}

const print = (text: string) => process.stdout.write(`${text}\n`);

export async function metrics(args: string[]): Promise<number> {
  const { id, json } = oneId(args, 'mwt metrics <run id> [--json]');
  const { metrics: rows } = await apiClient(await loadLogin()).json<{ metrics: Metric[] }>('GET', `/runs/${id}/metrics`);
  if (json) print(JSON.stringify(rows, null, 2));
  else {
    const headers = ['EPOCH', 'LR', 'LOSS', 'CE', 'COHESION', 'COUPLING', 'KERNEL RATE', 'TRAIN ACC', 'TEST ACC', 'SECONDS'];
    print(
      table(
        headers,
        rows.map((m) => [m.epoch, m.lr, m.loss, m.ceLoss, m.cohesionLoss, m.couplingLoss, m.kernelRate, m.trainAccuracy, m.testAccuracy, (m.durationMs / 1000).toFixed(1)]),
      ),
    );
  }
  return 0;
}

export async function modules(args: string[]): Promise<number> {
  const { id, json } = oneId(args, 'mwt modules <run id> [--json]');
  const { items } = await apiClient(await loadLogin()).json<{ items: Module[] }>('GET', `/runs/${id}/modules`);
  if (json) print(JSON.stringify(items, null, 2));
  else {
    const rows = items.map((m) => [m.id, m.kind, m.classes.join(','), `${m.keptKernels}/${m.totalKernels}`, m.kernelRetention, m.accuracy, m.artifactId ? 'yes' : 'no']);
    print(table(['ID', 'KIND', 'CLASSES', 'KERNELS', 'RETENTION', 'ACCURACY', 'DOWNLOAD'], rows));
  }
  return 0;
}

/** `mwt download <module> [dir]`: the module's tar, checked against its ETag (the sha256), unpacked into dir. */
export async function download(args: string[]): Promise<number> {
  const { positionals } = parseArgs({ args, allowPositionals: true });
  if (positionals.length < 1 || positionals.length > 2) throw new CliError('usage: mwt download <module id> [dir]', 2);
  const [moduleId, dir = moduleId] = positionals;
  const response = await apiClient(await loadLogin()).raw(`/modules/${encodeURIComponent(moduleId)}/download`);
  const archive = new Uint8Array(await response.arrayBuffer());
  const expected = /^"([0-9a-f]{64})"$/.exec(response.headers.get('etag') ?? '')?.[1];
  if (!expected) throw new CliError(`the download of module ${moduleId} carries no sha256 ETag`);
  const actual = sha256(archive);
  if (actual !== expected) throw new CliError(`module ${moduleId}: sha256 ${actual} does not match the ETag ${expected}; nothing written`);
  const files = await unpackTar(archive);
  const target = resolve(dir);
  await mkdir(target, { recursive: true });
  for (const [name, bytes] of files) {
    // Our archives hold flat files; anything else (a path, ..) is refused rather than written outside dir.
    if (!/^[\w.-]+$/.test(name) || name.startsWith('..')) throw new CliError(`module ${moduleId}: unexpected entry ${JSON.stringify(name)} in the archive`);
    await writeFile(join(target, name), bytes);
  }
  process.stderr.write(`module ${moduleId}: ${archive.byteLength} bytes, sha256 ${actual} verified\n`);
  print([...files.keys()].map((name) => join(dir, name)).join('\n'));
  return 0;
}
