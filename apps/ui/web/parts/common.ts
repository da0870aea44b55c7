/** Small pieces every page uses: the state badge, the progress bar, a definition list, errors. */
import { html, nothing, type TemplateResult } from 'lit-html';
import type { JobState } from '../types.js';

export const stateBadge = (state: JobState) => html`<span class="badge state-${state}">${state}</span>`;

export const progressBar = (percent: number, label: string) =>
  html`<span class="progress"><progress max="100" .value=${percent} aria-label=${label}></progress><span class="progress-text">${Math.round(percent)} %</span></span>`;

export const facts = (rows: [string, TemplateResult | string | number][]) =>
  html`<dl class="facts">
    ${rows.map(
      ([term, value]) =>
        html`<div>
          <dt>${term}</dt>
          <dd>${value}</dd>
        </div>`,
    )}
  </dl>`;

export const errorBox = (message: string | null) => (message ? html`<p class="error" role="alert">${message}</p>` : nothing);

export const loading = html`<p class="muted" role="status">Loading…</p>`;

export const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** What every page returns: called when the user leaves it (streams and timers stop). */
export interface Page {
  dispose(): void;
}
