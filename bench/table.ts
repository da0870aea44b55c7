/** One measured (or skipped) case of the benchmark; every section returns rows of this shape. */
export interface BenchRow {
  section: 'training' | 'pipeline' | 'service';
  case: string;
  backend: string;
  batch?: number;
  msPerStep?: number;
  samplesPerSec?: number;
  /** A throughput in `unit`s per second (requests, MB). */
  rate?: number;
  unit?: string;
  p50Ms?: number;
  p99Ms?: number;
  wallMs?: number;
  /** CPU time of the process (all its threads) over the same span: what a busy machine does not inflate. */
  cpuMs?: number;
  note?: string;
}

const COLUMNS: Array<[string, (row: BenchRow) => string]> = [
  ['section', (r) => r.section],
  ['case', (r) => r.case],
  ['backend', (r) => r.backend],
  ['batch', (r) => (r.batch === undefined ? '' : String(r.batch))],
  ['ms/step', (r) => (r.msPerStep === undefined ? '' : r.msPerStep.toFixed(1))],
  ['samples/s', (r) => (r.samplesPerSec === undefined ? '' : r.samplesPerSec.toFixed(0))],
  ['rate/s', (r) => (r.rate === undefined ? '' : `${r.rate.toFixed(r.rate >= 100 ? 0 : 1)} ${r.unit ?? ''}`.trim())],
  ['p50 ms', (r) => (r.p50Ms === undefined ? '' : r.p50Ms.toFixed(1))],
  ['p99 ms', (r) => (r.p99Ms === undefined ? '' : r.p99Ms.toFixed(1))],
  ['wall s', (r) => (r.wallMs === undefined ? '' : (r.wallMs / 1000).toFixed(2))],
  ['cpu s', (r) => (r.cpuMs === undefined ? '' : (r.cpuMs / 1000).toFixed(2))],
  ['note', (r) => r.note ?? ''],
];

/** A fixed-width text table, numbers right-aligned. */
export function formatTable(rows: BenchRow[]): string {
  const cells = rows.map((row) => COLUMNS.map(([, cell]) => cell(row)));
  const widths = COLUMNS.map(([title], i) => Math.max(title.length, ...cells.map((line) => line[i].length)));
  const numeric = new Set([3, 4, 5, 6, 7, 8, 9, 10]);
  const render = (line: string[]) =>
    line
      .map((cell, i) => (i === line.length - 1 ? cell : numeric.has(i) ? cell.padStart(widths[i]) : cell.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  const header = render(COLUMNS.map(([title]) => title));
  return [header, '-'.repeat(header.length), ...cells.map(render)].join('\n');
}

/** Times `step` after `warmup` untimed calls, for at least `minSteps` calls and `minMs` milliseconds. */
export function timeSteps(step: () => void, options: { warmup: number; minSteps: number; minMs: number }): number {
  for (let i = 0; i < options.warmup; i++) step();
  const started = performance.now();
  let steps = 0;
  while (steps < options.minSteps || performance.now() - started < options.minMs) {
    step();
    steps++;
  }
  return (performance.now() - started) / steps;
}
