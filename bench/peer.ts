/** The PyTorch peer (bench/peer_torch.py): the same network and step in torch, for a ratio measured in the same run. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildArchitecture, type Dataset, type ModelName } from '@mwt/core';
import type { BenchRow } from './table';

/** Debian's python3-torch installs for the system python, not for a pyenv python first on PATH. */
const PYTHON = process.env.MWT_PEER_PYTHON ?? '/usr/bin/python3';
const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'peer_torch.py');

interface PeerResult {
  torch: string;
  threads: number;
  batch: number;
  modular: number;
  standard: number;
}

function isPeerResult(value: unknown): value is PeerResult {
  const v = value as Partial<PeerResult> | null;
  return typeof v === 'object' && v !== null && typeof v.modular === 'number' && typeof v.standard === 'number' && typeof v.torch === 'string';
}

function torchMissing(): string | undefined {
  const probe = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' });
  if (probe.error) return `${PYTHON} not runnable (${probe.error.message})`;
  if (probe.status !== 0) return `torch not importable by ${PYTHON} (apt-get install -y python3-torch)`;
  return undefined;
}

/** Rows for torch's modular and standard step, or one row saying why the peer was skipped. */
export function benchPeer(dataset: Dataset, model: ModelName, batch: number, threads: number): BenchRow[] {
  const missing = torchMissing();
  if (missing) return [{ section: 'peer', case: 'pytorch peer', backend: 'torch', note: `skipped: ${missing}` }];
  const dir = mkdtempSync(join(tmpdir(), 'mwt-peer-'));
  try {
    const archPath = (modular: boolean) => {
      const path = join(dir, `${modular ? 'modular' : 'standard'}.json`);
      writeFileSync(path, JSON.stringify(buildArchitecture(model, dataset.inputShape, dataset.numClasses, { modular })));
      return path;
    };
    const args = [SCRIPT, '--arch-modular', archPath(true), '--arch-standard', archPath(false), '--batch', String(batch), '--threads', String(threads)];
    const run = spawnSync(PYTHON, args, { encoding: 'utf8' });
    const parsed: unknown = run.status === 0 ? JSON.parse(run.stdout.trim().split('\n').pop() ?? '') : undefined;
    if (!isPeerResult(parsed)) {
      return [{ section: 'peer', case: 'pytorch peer', backend: 'torch', note: `failed: ${run.stderr.trim().split('\n').pop() ?? 'no output'}` }];
    }
    const backend = `torch ${parsed.torch} (${parsed.threads} thr)`;
    return (['modular', 'standard'] as const).map((variant) => ({
      section: 'peer',
      case: `${variant} step ${model}`,
      backend,
      batch,
      msPerStep: parsed[variant],
      samplesPerSec: (batch * 1000) / parsed[variant],
    }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
