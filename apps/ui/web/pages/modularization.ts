/**
 * One modularization: KRR, cohesion, coupling; the class x layer heatmap of kept kernels (read from
 * the module set's metadata.json); each module's size against the full model; and, where the same
 * run was modularized at several thresholds (modularize jobs), the threshold study.
 */
import { html, nothing, render } from 'lit-html';
import { getBytes, getJson } from '../api.js';
import { count, duration, fixed, percent, shortId } from '../format.js';
import { errorBox, facts, loading, messageOf, type Page } from '../parts/common.js';
import { drawHeatmap, keptGrid, type KeptGrid } from '../parts/heatmap.js';
import { href } from '../router.js';
import { readJson, readTar } from '../tar.js';
import type { ArtifactMetadata, JobList, ModularizationView, ModuleView } from '../types.js';

export function modularizationPage(root: HTMLElement, id: string): Page {
  let modz: ModularizationView | null = null;
  let modules: ModuleView[] = [];
  let grid: KeptGrid | null = null;
  let gridError: string | null = null;
  let study: ModularizationView[] = [];
  let error: string | null = null;
  let disposed = false;

  const load = async () => {
    try {
      modz = await getJson<ModularizationView>(`/modularizations/${id}`);
      const list = await getJson<{ items: ModuleView[] }>(`/runs/${modz.runId}/modules`);
      modules = list.items.filter((m) => m.modularizationId === id);
    } catch (e) {
      error = messageOf(e);
    }
    draw();
    if (!modz) return;
    await Promise.all([loadGrid(modz), loadStudy(modz)]);
    draw();
  };

  const loadGrid = async (m: ModularizationView) => {
    if (!m.links.download) {
      gridError = 'this modularization stored no module set';
      return;
    }
    try {
      const metadata = readJson<ArtifactMetadata>(readTar(await getBytes(m.links.download)), 'metadata.json');
      if (!metadata.modularization) throw new Error('the module set has no masks');
      grid = keptGrid(metadata.modularization.layers, metadata.modularization.modules, metadata.outputClassNames);
    } catch (e) {
      gridError = messageOf(e);
    }
  };

  /** Other completed modularize jobs of the same run (the first 100), each a point of the study. */
  const loadStudy = async (m: ModularizationView) => {
    try {
      const jobs = await getJson<JobList>('/jobs?type=modularize&state=completed&limit=100');
      const ids = jobs.items
        .filter((j) => j.params.runId === m.runId)
        .flatMap((j) => j.modularizations)
        .filter((x) => x !== m.id);
      const others = await Promise.all(ids.map((x) => getJson<ModularizationView>(`/modularizations/${x}`)));
      study = [m, ...others].sort((a, b) => a.threshold - b.threshold);
    } catch {
      study = []; // the study is extra: the page stands without it
    }
  };

  const heatmap = () =>
    html`<section class="card" aria-labelledby="heatmap-title">
      <h2 id="heatmap-title">Kept kernels, class × layer</h2>
      ${
        grid
          ? html`<div class="scroll-x">
                <canvas id="heatmap" role="img" aria-label="Share of each conv layer's kernels kept by each class module; the table below has the numbers"></canvas>
              </div>
              <details>
                <summary>Heatmap values</summary>
                <div class="scroll-x">
                  <table class="compact">
                    <thead>
                      <tr>
                        <th scope="col">Class</th>
                        ${grid.layers.map((l) => html`<th scope="col">${l}</th>`)}
                      </tr>
                    </thead>
                    <tbody>
                      ${grid.classes.map(
                        (c, i) =>
                          html`<tr>
                            <th scope="row">${c}</th>
                            ${grid!.kept[i].map((f) => html`<td>${percent(f, 0)}</td>`)}
                          </tr>`,
                      )}
                    </tbody>
                  </table>
                </div>
              </details>`
          : gridError
            ? errorBox(gridError)
            : loading
      }
    </section>`;

  const moduleTable = () =>
    html`<section aria-labelledby="modules-title">
      <h2 id="modules-title">Modules</h2>
      <div class="scroll-x">
        <table class="compact">
          <thead>
            <tr>
              <th scope="col">Module</th>
              <th scope="col">Classes</th>
              <th scope="col">Kept kernels</th>
              <th scope="col">Params (of full)</th>
              <th scope="col">FLOPs (of full)</th>
              <th scope="col">Accuracy</th>
            </tr>
          </thead>
          <tbody>
            ${modules.map(
              (m) =>
                html`<tr>
                  <th scope="row"><a href=${href.module(m.id)}>${m.kind} ${shortId(m.id)}</a></th>
                  <td>${m.classes.join(', ')}</td>
                  <td>${m.keptKernels} / ${m.totalKernels} (${percent(m.kernelRetention)})</td>
                  <td>${count(m.params)} (${m.params && m.fullParams ? percent(m.params / m.fullParams) : '–'})</td>
                  <td>${count(m.flops)} (${m.flops && m.fullFlops ? percent(m.flops / m.fullFlops) : '–'})</td>
                  <td>${percent(m.accuracy)}</td>
                </tr>`,
            )}
          </tbody>
        </table>
      </div>
    </section>`;

  const studyTable = () =>
    study.length < 2
      ? nothing
      : html`<section class="card" aria-labelledby="study-title">
          <h2 id="study-title">Threshold study (same run)</h2>
          <table class="compact">
            <thead>
              <tr>
                <th scope="col">Threshold</th>
                <th scope="col">KRR</th>
                <th scope="col">Cohesion</th>
                <th scope="col">Coupling</th>
              </tr>
            </thead>
            <tbody>
              ${study.map(
                (s) =>
                  html`<tr aria-current=${s.id === id ? 'true' : nothing}>
                    <th scope="row">${s.id === id ? fixed(s.threshold, 2) : html`<a href=${href.modularization(s.id)}>${fixed(s.threshold, 2)}</a>`}</th>
                    <td>${percent(s.krr)}</td>
                    <td>${fixed(s.cohesion)}</td>
                    <td>${fixed(s.coupling)}</td>
                  </tr>`,
              )}
            </tbody>
          </table>
        </section>`;

  const draw = () => {
    if (disposed) return;
    const m = modz;
    render(
      html`<p class="crumbs"><a href=${href.jobs()}>Jobs</a> › ${m ? html`<a href=${href.job(m.jobId)}>job ${shortId(m.jobId)}</a> › ` : nothing}modularization</p>
        <h1 tabindex="-1">Modularization <span class="muted mono">${shortId(id)}</span></h1>
        ${errorBox(error)}
        ${
          m === null
            ? error
              ? nothing
              : loading
            : html`${facts([
                ['KRR', percent(m.krr)],
                ['Cohesion', fixed(m.cohesion)],
                ['Coupling', fixed(m.coupling)],
                ['Threshold', fixed(m.threshold, 2)],
                ['Took', duration(m.wallMs)],
                ['Run', html`<span class="mono">${shortId(m.runId)}</span>`],
              ])}
              ${heatmap()} ${moduleTable()} ${studyTable()}`
        }`,
      root,
    );
    const canvas = root.querySelector<HTMLCanvasElement>('#heatmap');
    if (canvas && grid) drawHeatmap(canvas, grid);
  };

  draw();
  void load();
  return { dispose: () => void (disposed = true) };
}
