/**
 * Ours against the PyTorch peer, interleaved: both sides run as long-lived processes (bench/ratio-child.ts
 * and `peer_torch.py --serve`) on the same network (one `buildArchitecture` JSON), and every round
 * times ours, then the peer (the order alternating), so that both see the same machine load. The
 * peer runs at its strongest: its BLAS as installed (OpenBLAS where present) and OpenMP threads that
 * sleep rather than spin when idle (OMP_WAIT_POLICY=PASSIVE), which a shared machine punishes.
 */
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildArchitecture, countFlops, type ModelName } from '@mwt/core';
import { LineProcess } from './line-process.js';
import { median } from './stats.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const PYTHON = process.env.MWT_PEER_PYTHON ?? '/usr/bin/python3';

export interface RatioOptions {
  models: ModelName[];
  batches: number[];
  threads: number[];
  rounds: number;
  /** Each side runs steps for at least this long per round (and at least one step). */
  minMs: number;
  /** fp32 GFLOP/s of the machine by thread count (bench/peak.ts). */
  peak?: Map<number, number>;
  /** Also time ours on this addon build (before/after in the same rounds). */
  baselineAddon?: string;
}

export interface RatioRow {
  model: ModelName;
  kind: 'modular' | 'standard';
  batch: number;
  threads: number;
  /** Medians over the rounds, ms per step; ratio = oursMs / peerMs. */
  oursMs: number;
  peerMs: number;
  oursMinMs: number;
  peerMinMs: number;
  ratio: number;
  /**
   * The median over rounds of each round's ours / peer: the two times of a round are taken moments
   * apart, so a slow phase of the machine (this VM's speed drifts by 10-25% over minutes) slows both.
   * Where it and `ratio` differ much, the row says more about the machine than about the code.
   */
  pairedRatio: number;
  /** Ours: 3 x forward multiply-adds x 2 flops (forward, input and filter gradients) per step / median time. */
  gflops: number;
  peakPct?: number;
  peerGflops: number;
  peerPeakPct?: number;
  /** Mean 1-minute load average over the rounds. */
  load: number;
  rounds: number;
  /** With a baseline addon: its median ms and its ratio to the peer. */
  baselineMs?: number;
  baselineRatio?: number;
}

/** Ours; with `addon`, ours on another build of the addon (MWT_NATIVE_ADDON), e.g. the one before a change. */
function startOurs(threads: number, addon?: string): LineProcess {
  return new LineProcess(process.execPath, ['--import', 'tsx', join(HERE, 'ratio-child.ts')], {
    ...process.env,
    MWT_BACKEND: 'native',
    MWT_NATIVE_THREADS: String(threads),
    MWT_QUIET: '1',
    ...(addon ? { MWT_NATIVE_ADDON: addon } : {}),
  });
}

function startPeer(threads: number): LineProcess {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    OMP_NUM_THREADS: String(threads),
    OPENBLAS_NUM_THREADS: String(threads),
    OMP_WAIT_POLICY: 'PASSIVE',
  };
  // MWT_PEER_OPENBLAS_CORETYPE picks OpenBLAS' kernels for the peer alone (see README, Benchmark).
  if (process.env.MWT_PEER_OPENBLAS_CORETYPE !== undefined) {
    env.OPENBLAS_CORETYPE = process.env.MWT_PEER_OPENBLAS_CORETYPE;
    delete env.OPENBLAS_L2_SIZE;
  }
  return new LineProcess(PYTHON, [join(HERE, 'peer_torch.py'), '--serve', '--threads', String(threads)], env);
}

interface Timed {
  ms: number;
}

/** The processes of one thread count: ours, the peer, and ours on a baseline addon (before/after). */
interface Sides {
  threads: number;
  ours: LineProcess;
  peer: LineProcess;
  baseline?: LineProcess;
}

async function startSides(threads: number, baselineAddon: string | undefined, log: (line: string) => void): Promise<Sides> {
  const sides: Sides = { threads, ours: startOurs(threads), peer: startPeer(threads) };
  if (baselineAddon) sides.baseline = startOurs(threads, baselineAddon);
  const oursInfo = await sides.ours.read<{ backend: string; threads: number; dnnl: boolean }>();
  const peerInfo = await sides.peer.read<{ torch: string; threads: number; blas: string; mkldnn: boolean }>();
  if (sides.baseline) await sides.baseline.read();
  log(
    `threads ${threads}: ours ${oursInfo.backend} (${oursInfo.threads} thr, convs ${oursInfo.dnnl ? 'oneDNN' : 'own kernels'}), ` +
      `peer torch ${peerInfo.torch} (${peerInfo.threads} thr, BLAS ${peerInfo.blas}, convs ${peerInfo.mkldnn ? 'oneDNN' : 'im2col + BLAS'}, OMP_WAIT_POLICY=PASSIVE, denormals flushed)` +
      (baselineAddon ? `, baseline: ours on ${baselineAddon}` : ''),
  );
  if (oursInfo.backend !== 'native') throw new Error(`ours runs on ${oursInfo.backend}, not native`);
  return sides;
}

/** One row: every side prepared on the same network, then timed round by round in rotating order. */
async function measureCase(sides: Sides, model: ModelName, kind: 'modular' | 'standard', batch: number, options: RatioOptions): Promise<RatioRow> {
  const arch = buildArchitecture(model, [32, 32, 3], 10, { modular: kind === 'modular' });
  const prepare = { prepare: arch, batch, modular: kind === 'modular', warmup: 2 };
  const order = [sides.ours, sides.peer, ...(sides.baseline ? [sides.baseline] : [])];
  const times = new Map<LineProcess, number[]>(order.map((side) => [side, []]));
  for (const side of order) await side.request(prepare);
  const loads: number[] = [];
  for (let round = 0; round < options.rounds; round++) {
    for (let i = 0; i < order.length; i++) {
      const side = order[(i + round) % order.length];
      times.get(side)?.push((await side.request<Timed>({ time: options.minMs })).ms);
    }
    loads.push(os.loadavg()[0]);
  }
  // Free the networks before the next case (another thread count's processes run meanwhile).
  for (const side of order) await side.request({ prepare: null });
  const oursMs = times.get(sides.ours) ?? [];
  const peerMs = times.get(sides.peer) ?? [];
  const flops = 6 * countFlops(arch) * batch;
  const row: RatioRow = {
    model,
    kind,
    batch,
    threads: sides.threads,
    oursMs: median(oursMs),
    peerMs: median(peerMs),
    oursMinMs: Math.min(...oursMs),
    peerMinMs: Math.min(...peerMs),
    ratio: median(oursMs) / median(peerMs),
    pairedRatio: median(oursMs.map((ms, round) => ms / peerMs[round])),
    gflops: flops / median(oursMs) / 1e6,
    peerGflops: flops / median(peerMs) / 1e6,
    load: loads.reduce((a, b) => a + b, 0) / loads.length,
    rounds: options.rounds,
  };
  const baselineMs = sides.baseline ? times.get(sides.baseline) : undefined;
  if (baselineMs) {
    row.baselineMs = median(baselineMs);
    row.baselineRatio = row.baselineMs / row.peerMs;
  }
  const peak = options.peak?.get(sides.threads);
  if (peak) {
    row.peakPct = (100 * row.gflops) / peak;
    row.peerPeakPct = (100 * row.peerGflops) / peak;
  }
  return row;
}

/** Every case at every thread count; the thread counts alternate within each case's model and batch. */
export async function benchRatios(options: RatioOptions, log: (line: string) => void = console.log): Promise<RatioRow[]> {
  const all: Sides[] = [];
  try {
    for (const threads of options.threads) all.push(await startSides(threads, options.baselineAddon, log));
    log(options.baselineAddon ? `${RATIO_HEADER}  before (ratio)` : RATIO_HEADER);
    const rows: RatioRow[] = [];
    for (const model of options.models) {
      for (const batch of options.batches) {
        for (const kind of ['modular', 'standard'] as const) {
          for (const sides of all) {
            const row = await measureCase(sides, model, kind, batch, options);
            log(formatRatioRow(row));
            rows.push(row);
          }
        }
      }
    }
    return rows;
  } finally {
    const processes = all.flatMap((sides) => [sides.ours, sides.peer, ...(sides.baseline ? [sides.baseline] : [])]);
    await Promise.all(processes.map((side) => side.close()));
  }
}

const RATIO_HEADER = 'model            kind      batch thr  ours ms (min)        torch ms (min)       ratio  paired  ours GF/s %peak  torch GF/s %peak  load';

export function formatRatioRow(r: RatioRow): string {
  const pct = (value?: number) => (value === undefined ? '   -' : value.toFixed(0).padStart(4));
  return [
    r.model.padEnd(16),
    r.kind.padEnd(9),
    String(r.batch).padStart(5),
    String(r.threads).padStart(3),
    `${r.oursMs.toFixed(1).padStart(8)} (${r.oursMinMs.toFixed(1).padStart(8)})`,
    `${r.peerMs.toFixed(1).padStart(8)} (${r.peerMinMs.toFixed(1).padStart(8)})`,
    `${r.ratio.toFixed(2).padStart(5)}x`,
    `${r.pairedRatio.toFixed(2).padStart(5)}x`,
    `${r.gflops.toFixed(0).padStart(9)} ${pct(r.peakPct)}`,
    `${r.peerGflops.toFixed(0).padStart(10)} ${pct(r.peerPeakPct)}`,
    r.load.toFixed(1).padStart(5),
    r.baselineMs === undefined ? '' : `${r.baselineMs.toFixed(1).padStart(8)} (${r.baselineRatio?.toFixed(2)}x)`,
  ]
    .join('  ')
    .trimEnd();
}

/** Wall time of the paper's run (200 epochs of CIFAR-10's 50,000 images) at one measured step time. */
export function projectedPaperRun(msPerStep: number, batch: number): { minutes: number; epochMinutes: number } {
  const epochMinutes = (Math.ceil(50_000 / batch) * msPerStep) / 60_000;
  return { epochMinutes, minutes: epochMinutes * 200 };
}
