/**
 * One job: facts, live progress (epoch, batch, ETA) from its event stream, the phases as a
 * timeline, the error in full, what it produced, and per-epoch curves of every series with the
 * job's runs (standard, modular, fine-tuned module) overlaid.
 */
import { html, nothing, render } from 'lit-html';
import { getJson, sendJson } from '../api.js';
import { followEvents } from '../events.js';
import { dateTime, duration, fixed, percent, shortId } from '../format.js';
import { drawChart, resizeCharts, type ChartElement, type Series } from '../parts/chart.js';
import { errorBox, facts, loading, messageOf, progressBar, stateBadge, type Page } from '../parts/common.js';
import { href } from '../router.js';
import { FINISHED, type JobStatus, type JobView, type MetricView, type ModularizationView, type Progress, type RunKind, type RunMetrics, type RunView } from '../types.js';

/** Every per-epoch series the API stores, in the order the charts appear. */
export const CURVES: { key: keyof MetricView; title: string }[] = [
  { key: 'trainAccuracy', title: 'Train accuracy' },
  { key: 'testAccuracy', title: 'Test accuracy' },
  { key: 'ceLoss', title: 'Cross-entropy loss' },
  { key: 'loss', title: 'Total loss' },
  { key: 'cohesionLoss', title: 'Cohesion loss' },
  { key: 'couplingLoss', title: 'Coupling loss' },
  { key: 'kernelRate', title: 'Kernel rate' },
  { key: 'batchCohesion', title: 'Batch cohesion' },
  { key: 'batchCoupling', title: 'Batch coupling' },
];

const RUN_STYLE: Record<RunKind, { color: string; dash?: number[]; label: string }> = {
  standard: { color: '#1d4ed8', dash: [6, 4], label: 'standard' },
  modular: { color: '#b91c1c', label: 'modular' },
  module: { color: '#047857', dash: [2, 3], label: 'module (fine-tuned)' },
};

interface RunData {
  run: RunView;
  metrics: MetricView[];
}

interface Segment {
  label: string;
  start: number;
  end: number;
  open: boolean;
}

/** The job's phases in time: waiting in the queue, each training run, each modularization. */
function phases(job: JobView, runs: RunData[], modularizations: ModularizationView[], now: number): Segment[] {
  const t = (iso: string | null) => (iso ? Date.parse(iso) : null);
  const segments: Segment[] = [];
  const started = t(job.startedAt);
  segments.push({ label: 'queued', start: Date.parse(job.createdAt), end: started ?? t(job.finishedAt) ?? now, open: started === null && !job.finishedAt });
  for (const { run } of runs) {
    const end = t(run.finishedAt);
    segments.push({ label: `train ${run.kind}`, start: Date.parse(run.createdAt), end: end ?? now, open: end === null });
  }
  for (const m of modularizations) segments.push({ label: 'modularize', start: Date.parse(m.createdAt) - m.wallMs, end: Date.parse(m.createdAt), open: false });
  return segments.sort((a, b) => a.start - b.start);
}

export function jobPage(root: HTMLElement, id: string): Page {
  let job: JobView | null = null;
  let runs: RunData[] = [];
  let modularizations: ModularizationView[] = [];
  let live: Progress | null = null;
  let error: string | null = null;
  let chartsKey = '';
  let disposed = false;
  const abort = new AbortController();
  let poll: ReturnType<typeof setTimeout> | undefined;

  const loadJob = async () => {
    job = await getJson<JobView>(`/jobs/${id}`);
    const [runViews, modzs] = await Promise.all([
      Promise.all(job.runs.map((r) => getJson<RunView>(`/runs/${r}`))),
      Promise.all(job.modularizations.map((m) => getJson<ModularizationView>(`/modularizations/${m}`))),
    ]);
    const metrics = await Promise.all(runViews.map((r) => getJson<RunMetrics>(`/runs/${r.id}/metrics`)));
    runs = runViews.map((run, i) => ({ run, metrics: metrics[i].metrics }));
    modularizations = modzs;
  };

  /** Reloads, at most one at a time; a request while one runs makes one more run after it. */
  let reloading: Promise<void> | null = null;
  let again = false;
  const reload = async (): Promise<void> => {
    if (reloading) {
      again = true;
      return reloading;
    }
    reloading = (async () => {
      do {
        again = false;
        try {
          await loadJob();
          error = null;
        } catch (e) {
          error = messageOf(e);
        }
      } while (again && !disposed);
    })();
    await reloading;
    reloading = null;
    if (!disposed) draw();
  };

  const onStatus = (status: JobStatus) => {
    if (!job) return;
    const changed = status.state !== job.state || status.epoch !== job.epoch || status.phase !== job.phase;
    Object.assign(job, status);
    if (changed)
      void reload(); // a new epoch has a new metric row; a new phase may have a new run
    else draw();
  };

  const follow = async () => {
    try {
      await followEvents(
        `/jobs/${id}/events`,
        (event, data) => {
          if (event === 'progress') {
            live = data as Progress;
            if (job && live.epoch !== undefined && live.epoch !== job.epoch) onStatus({ ...job, epoch: live.epoch, phase: live.phase });
            else draw();
          } else if (event === 'state' || event === 'end') onStatus(data as JobStatus);
          else if (event === 'error') error = (data as { message?: string }).message ?? 'the event stream failed';
        },
        abort.signal,
      );
      if (!disposed) {
        live = null;
        await reload();
      }
    } catch (e) {
      if (disposed) return;
      // The stream broke (a proxy, a restart): poll instead until the job finishes.
      error = `live updates interrupted (${messageOf(e)}); refreshing every 2 s`;
      const tick = async () => {
        await reload();
        if (!disposed && job && !FINISHED.includes(job.state)) poll = setTimeout(() => void tick(), 2_000);
      };
      await tick();
    }
  };

  const cancel = async () => {
    try {
      job = await sendJson<JobView>('DELETE', `/jobs/${id}`);
    } catch (e) {
      error = messageOf(e);
    }
    draw();
  };

  const eta = (): string => {
    const percentDone = live?.percent ?? job?.progress ?? 0;
    if (!job?.startedAt || percentDone <= 0 || percentDone >= 100) return '–';
    const elapsed = Date.now() - Date.parse(job.startedAt);
    return duration((elapsed * (100 - percentDone)) / percentDone);
  };

  const liveSection = (j: JobView) => {
    const p = live;
    return html`<section class="card" aria-labelledby="progress-title">
      <h2 id="progress-title">Progress</h2>
      <div class="live" aria-live="polite">
        ${progressBar(p?.percent ?? j.progress, 'job progress')}
        ${facts([
          ['Phase', p?.phase ?? j.phase ?? '–'],
          ['Epoch', p?.epoch !== undefined ? `${p.epoch} / ${p.totalEpochs ?? '?'}` : j.epoch !== null ? `${j.epoch} / ${j.totalEpochs ?? '?'}` : '–'],
          ['Batch', p?.batch !== undefined ? `${p.batch} / ${p.totalBatches ?? '?'}` : '–'],
          ['ETA', eta()],
        ])}
        ${(p?.message ?? j.message) ? html`<p class="muted">${p?.message ?? j.message}</p>` : nothing}
      </div>
    </section>`;
  };

  const timeline = (j: JobView) => {
    const now = Date.now();
    const segments = phases(j, runs, modularizations, now);
    const start = Date.parse(j.createdAt);
    const end = Math.max(j.finishedAt ? Date.parse(j.finishedAt) : now, ...segments.map((s) => s.end));
    const span = Math.max(1, end - start);
    return html`<section class="card" aria-labelledby="phases-title">
      <h2 id="phases-title">Phases</h2>
      <ol class="timeline">
        ${segments.map(
          (s) =>
            html`<li>
              <span class="timeline-label">${s.label}</span>
              <span class="timeline-track" aria-hidden="true"
                ><span
                  class="timeline-bar ${s.open ? 'open' : ''}"
                  style="left:${((s.start - start) / span) * 100}%;width:${Math.max(0.5, ((s.end - s.start) / span) * 100)}%"
                ></span
              ></span>
              <span class="timeline-time">${duration(s.end - s.start)}${s.open ? ' …' : ''}</span>
            </li>`,
        )}
      </ol>
    </section>`;
  };

  const resultLink = (key: string, value: string | number | null) => {
    if (typeof value !== 'string') return typeof value === 'number' ? (Number.isInteger(value) ? String(value) : fixed(value, 4)) : '–';
    if (key === 'modularizationId') return html`<a href=${href.modularization(value)}>${shortId(value)}</a>`;
    if (key === 'moduleId') return html`<a href=${href.module(value)}>${shortId(value)}</a>`;
    return html`<span class="mono">${shortId(value)}</span>`;
  };

  const runTable = () =>
    runs.length === 0
      ? nothing
      : html`<div class="scroll-x">
          <table class="compact">
            <caption>
              Runs
            </caption>
            <thead>
              <tr>
                <th scope="col">Run</th>
                <th scope="col">Status</th>
                <th scope="col">Epochs</th>
                <th scope="col">Train acc.</th>
                <th scope="col">Test acc.</th>
                <th scope="col">Params</th>
                <th scope="col">Time</th>
              </tr>
            </thead>
            <tbody>
              ${runs.map(
                ({ run }) =>
                  html`<tr>
                    <th scope="row">${run.kind} <span class="muted mono">${shortId(run.id)}</span></th>
                    <td>${stateBadge(run.status)}</td>
                    <td>${run.epochsDone}</td>
                    <td>${percent(run.trainAccuracy)}</td>
                    <td>${percent(run.testAccuracy)}</td>
                    <td>${run.params?.toLocaleString('en-US') ?? '–'}</td>
                    <td>${duration(run.wallMs)}</td>
                  </tr>`,
              )}
            </tbody>
          </table>
        </div>`;

  const curvesWithData = () => CURVES.filter((c) => runs.some((r) => r.metrics.some((m) => m[c.key] !== null)));

  const curves = () => {
    const shown = curvesWithData();
    if (shown.length === 0) return runs.length > 0 ? html`<p class="muted">No epoch finished yet.</p>` : nothing;
    return html`<section aria-labelledby="curves-title">
      <h2 id="curves-title">Curves per epoch</h2>
      <div class="charts">
        ${shown.map(
          (c) =>
            html`<figure class="card chart-card">
              <div class="chart" data-chart=${c.key} role="img" aria-label="${c.title} by epoch, ${runs.map((r) => r.run.kind).join(' and ')} runs"></div>
              <details>
                <summary>${c.title}: values</summary>
                <table class="compact">
                  <thead>
                    <tr>
                      <th scope="col">Epoch</th>
                      ${runs.map((r) => html`<th scope="col">${r.run.kind}</th>`)}
                    </tr>
                  </thead>
                  <tbody>
                    ${[...new Set(runs.flatMap((r) => r.metrics.map((m) => m.epoch)))]
                      .sort((a, b) => a - b)
                      .map(
                        (epoch) =>
                          html`<tr>
                            <th scope="row">${epoch}</th>
                            ${runs.map((r) => html`<td>${fixed(r.metrics.find((m) => m.epoch === epoch)?.[c.key] as number | null | undefined, 4)}</td>`)}
                          </tr>`,
                      )}
                  </tbody>
                </table>
              </details>
            </figure>`,
        )}
      </div>
    </section>`;
  };

  /** Redraws the charts when their data changed (not at every progress event). */
  const drawCharts = () => {
    const key = JSON.stringify(runs.map((r) => [r.run.id, r.metrics.length]));
    if (key === chartsKey) {
      resizeCharts(root);
      return;
    }
    chartsKey = key;
    for (const c of curvesWithData()) {
      const el = root.querySelector<ChartElement>(`[data-chart="${c.key}"]`);
      if (!el) continue;
      const series: Series[] = runs.map(({ run, metrics }) => ({
        ...RUN_STYLE[run.kind],
        label: `${RUN_STYLE[run.kind].label} ${shortId(run.id)}`,
        points: new Map(metrics.map((m) => [m.epoch, m[c.key] as number | null])),
      }));
      drawChart(el, c.title, series);
    }
  };

  const draw = () => {
    if (disposed) return;
    const j = job;
    render(
      html`<p class="crumbs"><a href=${href.jobs()}>Jobs</a> › job</p>
        ${
          j === null
            ? html`<h1 tabindex="-1">Job <span class="mono">${shortId(id)}</span></h1>
                ${error ? errorBox(error) : loading}`
            : html`<div class="page-head">
                  <h1 tabindex="-1">${j.type} <span class="muted mono">${shortId(j.id)}</span> ${stateBadge(j.state)}</h1>
                  ${FINISHED.includes(j.state) || j.cancelRequested ? nothing : html`<button class="secondary" @click=${cancel}>Cancel job</button>`}
                </div>
                ${errorBox(error)}
                ${facts([
                  ['Created', dateTime(j.createdAt)],
                  ['Started', dateTime(j.startedAt)],
                  ['Finished', dateTime(j.finishedAt)],
                  ['Duration', duration(j.durationMs)],
                  ['Attempts', j.attempts],
                ])}
                ${
                  j.error
                    ? html`<section class="card" aria-labelledby="error-title">
                        <h2 id="error-title">Error</h2>
                        <pre class="error-text">${j.error}</pre>
                      </section>`
                    : nothing
                }
                ${FINISHED.includes(j.state) ? nothing : liveSection(j)} ${timeline(j)}
                ${
                  j.result
                    ? html`<section class="card" aria-labelledby="result-title">
                        <h2 id="result-title">Result</h2>
                        ${facts(Object.entries(j.result).map(([k, v]) => [k, resultLink(k, v)]))}
                      </section>`
                    : nothing
                }
                ${
                  j.modularizations.length > 0 || j.modules.length > 0
                    ? html`<section class="card" aria-labelledby="produced-title">
                        <h2 id="produced-title">Produced</h2>
                        <ul class="inline-list">
                          ${j.modularizations.map((m) => html`<li><a href=${href.modularization(m)}>modularization ${shortId(m)}</a></li>`)}
                          ${j.modules.length > 0 ? html`<li>${j.modules.length} module${j.modules.length === 1 ? '' : 's'} (see the modularization)</li>` : nothing}
                        </ul>
                      </section>`
                    : nothing
                }
                <details class="card">
                  <summary>Parameters</summary>
                  <pre>${JSON.stringify(j.params, null, 2)}</pre>
                </details>
                ${runTable()} ${curves()}`
        }`,
      root,
    );
    drawCharts();
  };

  const onResize = () => resizeCharts(root);
  window.addEventListener('resize', onResize);
  draw();
  void reload().then(() => {
    if (!disposed && job && !FINISHED.includes(job.state)) void follow();
  });
  return {
    dispose: () => {
      disposed = true;
      abort.abort();
      clearTimeout(poll);
      window.removeEventListener('resize', onResize);
    },
  };
}
