/**
 * The report of scripts/gpu-check.sh: one row per model and step variant with ours on webgpu, PyTorch
 * on its device and ours on native, ms/step, and the two ratios the issue sets targets for (webgpu
 * modular step <= 3x PyTorch CUDA's; >= 20x faster than native).
 */
interface StepRecord {
  kind: 'step';
  /** backend, or `unfused` for webgpu without the fused WGSL kernels. */
  label: string;
  backend: string;
  model: string;
  variant: string;
  batch: number;
  msPerStep: number;
  firstStepMs: number;
  steps: number;
}
interface PeerTiming {
  msPerStep: number;
}
interface PeerRecord {
  kind: 'peer';
  model: string;
  device: string;
  torch: string;
  gpu?: string;
  modular?: PeerTiming;
  standard?: PeerTiming;
}
interface OtherRecord {
  kind: string;
  [key: string]: unknown;
}
type ResultRecord = StepRecord | PeerRecord | OtherRecord;

export interface SummaryRow {
  model: string;
  variant: string;
  batch?: number;
  webgpuMs?: number;
  /** webgpu without the fused WGSL kernels (modular rows). */
  unfusedMs?: number;
  torchMs?: number;
  torchDevice?: string;
  nativeMs?: number;
  /** webgpu / torch: target <= 3 for the modular step on a CUDA GPU. */
  webgpuOverTorch?: number;
  /** native / webgpu: target >= 20. */
  nativeOverWebgpu?: number;
}

const isStep = (r: ResultRecord): r is StepRecord => r.kind === 'step' && typeof (r as StepRecord).msPerStep === 'number';
const isPeer = (r: ResultRecord): r is PeerRecord => r.kind === 'peer';

function fixed(value: number | undefined, digits: number): string {
  return value === undefined ? '-' : value.toFixed(digits);
}

export function summarize(records: unknown[]): { table: string; report: { rows: SummaryRow[]; records: unknown[] } } {
  const results = records.filter((r): r is ResultRecord => typeof r === 'object' && r !== null && typeof (r as ResultRecord).kind === 'string');
  const keys = new Map<string, { model: string; variant: string }>();
  for (const r of results) {
    if (isStep(r)) keys.set(`${r.model}/${r.variant}`, { model: r.model, variant: r.variant });
    if (isPeer(r)) for (const variant of ['modular', 'standard']) keys.set(`${r.model}/${variant}`, { model: r.model, variant });
  }
  const rows = [...keys.values()].map(({ model, variant }): SummaryRow => {
    const step = (label: string) => results.find((r): r is StepRecord => isStep(r) && r.label === label && r.model === model && r.variant === variant);
    const peer = results.find((r): r is PeerRecord => isPeer(r) && r.model === model);
    const webgpu = step('webgpu');
    const native = step('native');
    const torch = peer?.[variant === 'modular' ? 'modular' : 'standard']?.msPerStep;
    return {
      model,
      variant,
      batch: webgpu?.batch ?? native?.batch,
      webgpuMs: webgpu?.msPerStep,
      unfusedMs: step('unfused')?.msPerStep,
      torchMs: torch,
      torchDevice: peer ? `${peer.device}${peer.gpu ? ` (${peer.gpu})` : ''}, torch ${peer.torch}` : undefined,
      nativeMs: native?.msPerStep,
      webgpuOverTorch: webgpu && torch !== undefined ? webgpu.msPerStep / torch : undefined,
      nativeOverWebgpu: webgpu && native ? native.msPerStep / webgpu.msPerStep : undefined,
    };
  });
  const header = 'model      variant   batch  webgpu ms  unfused ms  torch ms  native ms  webgpu/torch  native/webgpu  torch on';
  const lines = rows.map((r) =>
    [
      r.model.padEnd(10),
      r.variant.padEnd(8),
      String(r.batch ?? '-').padStart(6),
      fixed(r.webgpuMs, 1).padStart(10),
      fixed(r.unfusedMs, 1).padStart(11),
      fixed(r.torchMs, 1).padStart(9),
      fixed(r.nativeMs, 1).padStart(10),
      `${fixed(r.webgpuOverTorch, 2)}x`.padStart(13),
      `${fixed(r.nativeOverWebgpu, 1)}x`.padStart(14),
      ` ${r.torchDevice ?? '-'}`,
    ].join(' '),
  );
  const failures = results.filter((r): r is OtherRecord => r.kind === 'failed').map((r) => `  not measured: ${String(r.what)}: ${String(r.reason)}`);
  return { table: [header, ...lines, ...failures].join('\n'), report: { rows, records } };
}
