/**
 * One per-epoch curve chart (uPlot): a line per run, x = epoch. The uPlot instance stays on the
 * element (`.uplot`), so what the chart holds can be read back; a data table below says the
 * same for screen readers.
 */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface Series {
  label: string;
  color: string;
  dash?: number[];
  /** y by epoch; null where the run has no value. */
  points: Map<number, number | null>;
}

export interface ChartElement extends HTMLElement {
  uplot?: uPlot;
}

/** x = every epoch any series has; y aligned to it, null where missing. */
export function alignSeries(series: Series[]): uPlot.AlignedData {
  const epochs = [...new Set(series.flatMap((s) => [...s.points.keys()]))].sort((a, b) => a - b);
  return [epochs, ...series.map((s) => epochs.map((e) => s.points.get(e) ?? null))];
}

export function drawChart(target: ChartElement, title: string, series: Series[]): void {
  target.uplot?.destroy();
  const width = Math.max(240, target.clientWidth || 480);
  const options: uPlot.Options = {
    title,
    width,
    height: 220,
    scales: { x: { time: false } },
    axes: [{ label: 'epoch', incrs: [1, 2, 5, 10, 20, 50, 100] }, { size: 56 }],
    series: [{ label: 'epoch' }, ...series.map((s) => ({ label: s.label, stroke: s.color, width: 2, dash: s.dash, points: { show: true, size: 6 }, spanGaps: false }))],
    legend: { live: true },
  };
  target.uplot = new uPlot(options, alignSeries(series), target);
}

/** Keeps every chart inside `root` as wide as its box (the layout changes with the window). */
export function resizeCharts(root: ParentNode): void {
  for (const el of root.querySelectorAll<ChartElement>('[data-chart]')) {
    const chart = el.uplot;
    if (chart && el.clientWidth > 0 && Math.abs(chart.width - el.clientWidth) > 4) chart.setSize({ width: el.clientWidth, height: chart.height });
  }
}
