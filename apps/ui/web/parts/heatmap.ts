/**
 * The class x layer heatmap of a modularization: each cell is the share of the layer's kernels
 * that the class module keeps, drawn on a canvas (a table carries the same numbers as text).
 */
import type { LayerKernels } from '../types.js';

export interface KeptGrid {
  classes: string[];
  layers: string[];
  /** kept[class][layer], a fraction in 0..1. */
  kept: number[][];
}

export function keptGrid(layers: LayerKernels[], modules: { classId: number; mask: string }[], classNames: string[]): KeptGrid {
  const sorted = [...modules].sort((a, b) => a.classId - b.classId);
  return {
    classes: sorted.map((m) => classNames[m.classId] ?? String(m.classId)),
    layers: layers.map((l) => l.name),
    kept: sorted.map((m) =>
      layers.map((l) => {
        let on = 0;
        for (let i = l.offset; i < l.offset + l.kernels; i++) if (m.mask[i] === '1') on++;
        return l.kernels > 0 ? on / l.kernels : 0;
      }),
    ),
  };
}

/** White (nothing kept) to a dark blue (all kept), as [r, g, b]. */
function cellColor(fraction: number): [number, number, number] {
  const t = Math.min(1, Math.max(0, fraction));
  const mix = (a: number, b: number) => Math.round(a + (b - a) * t);
  return [mix(247, 8), mix(251, 48), mix(255, 107)];
}

/** Black or white, whichever keeps at least 4.5:1 contrast on the cell (WCAG relative luminance). */
function textOn([r, g, b]: [number, number, number]): string {
  const linear = (c: number) => (c / 255 <= 0.03928 ? c / 255 / 12.92 : ((c / 255 + 0.055) / 1.055) ** 2.4);
  const luminance = 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b);
  return luminance > 0.18 ? '#000000' : '#ffffff';
}

export function drawHeatmap(canvas: HTMLCanvasElement, grid: KeptGrid): void {
  const rowLabel = 56;
  const header = 28;
  const cellWidth = Math.max(44, Math.min(96, Math.floor((Math.min(canvas.parentElement?.clientWidth ?? 640, 900) - rowLabel) / Math.max(1, grid.layers.length))));
  const cellHeight = 26;
  const width = rowLabel + cellWidth * grid.layers.length;
  const height = header + cellHeight * grid.classes.length;
  const scale = window.devicePixelRatio || 1;
  canvas.width = width * scale;
  canvas.height = height * scale;
  canvas.style.width = `${width}px`;
  canvas.style.height = `${height}px`;
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  ctx.scale(scale, scale);
  ctx.clearRect(0, 0, width, height);
  ctx.font = '12px system-ui, sans-serif';
  ctx.textBaseline = 'middle';
  ctx.textAlign = 'center';
  ctx.fillStyle = '#1f2933';
  grid.layers.forEach((name, j) => ctx.fillText(name, rowLabel + cellWidth * (j + 0.5), header / 2, cellWidth - 4));
  grid.classes.forEach((name, i) => {
    const y = header + cellHeight * i;
    ctx.textAlign = 'right';
    ctx.fillStyle = '#1f2933';
    ctx.fillText(`class ${name}`, rowLabel - 6, y + cellHeight / 2, rowLabel - 8);
    ctx.textAlign = 'center';
    grid.kept[i].forEach((fraction, j) => {
      const x = rowLabel + cellWidth * j;
      const color = cellColor(fraction);
      ctx.fillStyle = `rgb(${color.join(', ')})`;
      ctx.fillRect(x + 1, y + 1, cellWidth - 2, cellHeight - 2);
      ctx.fillStyle = textOn(color);
      ctx.fillText(`${Math.round(fraction * 100)}%`, x + cellWidth / 2, y + cellHeight / 2);
    });
  });
}
