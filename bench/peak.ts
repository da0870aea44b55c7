/** The machine's measured fp32 peak (bench/peak/fma-peak.cc), built here with the addon's compiler. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SOURCE = join(dirname(fileURLToPath(import.meta.url)), 'peak', 'fma-peak.cc');

/** GFLOP/s by thread count (best of `tries` runs: other processes only ever lower it), or undefined without a compiler. */
export function measurePeak(threadCounts: number[], tries = 3): Map<number, number> | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'mwt-peak-'));
  try {
    const binary = join(dir, 'fma-peak');
    const compiler = process.env.CXX || 'g++';
    const build = spawnSync(compiler, ['-O3', `-march=${process.env.MWT_NATIVE_MARCH || 'native'}`, '-pthread', SOURCE, '-o', binary], { encoding: 'utf8' });
    if (build.status !== 0) return undefined;
    const peaks = new Map<number, number>();
    for (const threads of threadCounts) {
      for (let i = 0; i < tries; i++) {
        const run = spawnSync(binary, [String(threads)], { encoding: 'utf8' });
        const { gflops } = JSON.parse(run.stdout) as { gflops: number };
        peaks.set(threads, Math.max(peaks.get(threads) ?? 0, gflops));
      }
    }
    return peaks;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
