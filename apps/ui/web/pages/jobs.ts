/**
 * Jobs: newest first, filtered by state and type (kept in the URL), paged with the API's cursor,
 * refreshed every 2 s while a job on the page is queued or running; cancel; "new job".
 */
import { html, nothing, render } from 'lit-html';
import { getJson, sendJson } from '../api.js';
import { dateTime, duration, shortId } from '../format.js';
import { JobForm, loadJobSchemas } from '../parts/job-form.js';
import { errorBox, loading, messageOf, progressBar, stateBadge, type Page } from '../parts/common.js';
import { href, navigate } from '../router.js';
import { FINISHED, JOB_STATES, JOB_TYPES, type JobList, type JobView } from '../types.js';

const PAGE_SIZE = 20;
const REFRESH_MS = 2_000;

export function jobsPage(root: HTMLElement, query: URLSearchParams): Page {
  const state = query.get('state') ?? '';
  const type = query.get('type') ?? '';
  /** Cursors of the pages before this one (Newer goes back), and this page's. */
  const history: (string | null)[] = [];
  let cursor: string | null = null;
  let list: JobList | null = null;
  let error: string | null = null;
  let showForm = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let disposed = false;

  const load = async () => {
    clearTimeout(timer);
    const params = new URLSearchParams({ limit: String(PAGE_SIZE) });
    if (state) params.set('state', state);
    if (type) params.set('type', type);
    if (cursor) params.set('cursor', cursor);
    try {
      list = await getJson<JobList>(`/jobs?${params}`);
      error = null;
    } catch (e) {
      error = messageOf(e);
    }
    if (disposed) return;
    draw();
    if (list?.items.some((j) => !FINISHED.includes(j.state))) timer = setTimeout(() => void load(), REFRESH_MS);
  };

  const filter = (name: 'state' | 'type', value: string) => {
    const next = new URLSearchParams(query);
    if (value) next.set(name, value);
    else next.delete(name);
    navigate(href.jobs(next));
  };

  const cancel = async (job: JobView) => {
    try {
      await sendJson('DELETE', `/jobs/${job.id}`);
    } catch (e) {
      error = messageOf(e);
    }
    await load();
  };

  const toggleForm = async () => {
    showForm = !showForm;
    draw();
    if (!showForm) return;
    const host = root.querySelector<HTMLElement>('#new-job');
    if (!host) return;
    try {
      new JobForm(host, await loadJobSchemas(), (job) => navigate(href.job(job.id)));
      host.querySelector<HTMLElement>('#field-type')?.focus();
    } catch (e) {
      render(errorBox(`could not load the job schemas: ${messageOf(e)}`), host);
    }
  };

  const row = (job: JobView) =>
    html`<tr>
      <td data-label="Job"><a href=${href.job(job.id)}>${job.type}</a> <span class="muted mono">${shortId(job.id)}</span></td>
      <td data-label="State">${stateBadge(job.state)}${job.cancelRequested && !FINISHED.includes(job.state) ? html` <span class="muted">cancelling</span>` : nothing}</td>
      <td data-label="Progress">${progressBar(job.progress, `progress of job ${shortId(job.id)}`)}</td>
      <td data-label="Created">${dateTime(job.createdAt)}</td>
      <td data-label="Duration">${duration(job.durationMs)}</td>
      <td data-label="">
        ${
          FINISHED.includes(job.state) || job.cancelRequested
            ? nothing
            : html`<button class="secondary" @click=${() => cancel(job)} aria-label="Cancel job ${shortId(job.id)}">Cancel</button>`
        }
      </td>
    </tr>`;

  const draw = () =>
    render(
      html`<div class="page-head">
          <h1 tabindex="-1">Jobs</h1>
          <button @click=${toggleForm} aria-expanded=${showForm ? 'true' : 'false'} aria-controls="new-job">${showForm ? 'Close form' : 'New job'}</button>
        </div>
        <section id="new-job" class="card" ?hidden=${!showForm}></section>
        <form class="filters" @submit=${(e: Event) => e.preventDefault()} aria-label="Filter jobs">
          <label
            >State
            <select name="state" @change=${(e: Event) => filter('state', (e.target as HTMLSelectElement).value)}>
              <option value="">any</option>
              ${JOB_STATES.map((s) => html`<option value=${s} ?selected=${s === state}>${s}</option>`)}
            </select>
          </label>
          <label
            >Type
            <select name="type" @change=${(e: Event) => filter('type', (e.target as HTMLSelectElement).value)}>
              <option value="">any</option>
              ${JOB_TYPES.map((t) => html`<option value=${t} ?selected=${t === type}>${t}</option>`)}
            </select>
          </label>
        </form>
        ${errorBox(error)}
        ${
          list === null
            ? error
              ? nothing
              : loading
            : list.items.length === 0
              ? html`<p class="muted">No jobs${state || type ? ' match these filters' : ' yet: submit one with “New job”'}.</p>`
              : html`<table class="jobs responsive">
                  <caption class="visually-hidden">
                    Jobs, newest first
                  </caption>
                  <thead>
                    <tr>
                      <th scope="col">Job</th>
                      <th scope="col">State</th>
                      <th scope="col">Progress</th>
                      <th scope="col">Created</th>
                      <th scope="col">Duration</th>
                      <th scope="col"><span class="visually-hidden">Actions</span></th>
                    </tr>
                  </thead>
                  <tbody>
                    ${list.items.map(row)}
                  </tbody>
                </table>`
        }
        <nav class="pager" aria-label="Pages">
          <button
            class="secondary"
            ?disabled=${history.length === 0}
            @click=${() => {
              cursor = history.pop() ?? null;
              void load();
            }}
          >
            ← Newer
          </button>
          <button
            class="secondary"
            ?disabled=${!list?.nextCursor}
            @click=${() => {
              history.push(cursor);
              cursor = list?.nextCursor ?? null;
              void load();
            }}
          >
            Older →
          </button>
        </nav>`,
      root,
    );

  draw();
  void load();
  return {
    dispose: () => {
      disposed = true;
      clearTimeout(timer);
    },
  };
}
