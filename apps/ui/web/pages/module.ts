/**
 * One module: its classes, size and cost against the full model, accuracy against the standard
 * model, a download, and "try it": the module fetched from the API runs in the browser.
 */
import { html, nothing, render } from 'lit-html';
import { getBytes, getJson } from '../api.js';
import { loadClassifier } from '../classify.js';
import { count, percent, shortId } from '../format.js';
import { errorBox, facts, loading, messageOf, type Page } from '../parts/common.js';
import { TryIt } from '../parts/try-it.js';
import { href } from '../router.js';
import type { ModuleView } from '../types.js';

const ratio = (part: number | null, whole: number | null) => (part !== null && whole ? ` (${percent(part / whole)} of the full model's ${count(whole)})` : '');

export function modulePage(root: HTMLElement, id: string): Page {
  let module: ModuleView | null = null;
  let archiveUrl: string | null = null;
  let error: string | null = null;
  let tryError: string | null = null;
  let tryReady = false;
  let disposed = false;

  const load = async () => {
    try {
      module = await getJson<ModuleView>(`/modules/${id}`);
    } catch (e) {
      error = messageOf(e);
    }
    draw();
    if (!module?.links.download) return;
    try {
      const archive = await getBytes(module.links.download);
      if (disposed) return;
      // The download button saves these bytes: a plain link could not carry the API key.
      archiveUrl = URL.createObjectURL(new Blob([archive as Uint8Array<ArrayBuffer>], { type: 'application/x-tar' }));
      draw();
      const classifier = await loadClassifier(archive);
      if (disposed) {
        classifier.dispose();
        return;
      }
      tryReady = true;
      draw();
      const host = root.querySelector<HTMLElement>('#try-it');
      if (host) new TryIt(host, classifier);
    } catch (e) {
      tryError = messageOf(e);
      draw();
    }
  };

  const draw = () => {
    if (disposed) return;
    const m = module;
    render(
      html`<p class="crumbs">
          <a href=${href.jobs()}>Jobs</a> ›
          ${m ? html`<a href=${href.job(m.jobId)}>job ${shortId(m.jobId)}</a> › <a href=${href.modularization(m.modularizationId)}>modularization</a> › ` : nothing}module
        </p>
        <h1 tabindex="-1">Module <span class="muted mono">${shortId(id)}</span></h1>
        ${errorBox(error)}
        ${
          m === null
            ? error
              ? nothing
              : loading
            : html`${facts([
                  ['Kind', m.kind === 'class' ? 'class module' : 'reused (fine-tuned) module'],
                  ['Classes', m.classes.join(', ')],
                  ['Kept kernels', `${m.keptKernels} / ${m.totalKernels} (${percent(m.kernelRetention)})`],
                  ['Params', `${count(m.params)}${ratio(m.params, m.fullParams)}`],
                  ['FLOPs', `${count(m.flops)}${ratio(m.flops, m.fullFlops)}`],
                  ['Accuracy', percent(m.accuracy, 2)],
                  ['Standard model', percent(m.standardAccuracy, 2)],
                  ['Accuracy loss', m.accuracyLoss === null ? '–' : `${(m.accuracyLoss * 100).toFixed(2)} points`],
                ])}
                <p>
                  ${
                    archiveUrl
                      ? html`<a class="button" href=${archiveUrl} download="module-${m.id}.tar">Download module (.tar)</a>`
                      : m.links.download
                        ? html`<span class="muted">Fetching the module…</span>`
                        : html`<span class="muted">This module has no stored artifact.</span>`
                  }
                </p>
                <section class="card" aria-labelledby="try-title">
                  <h2 id="try-title">Try it</h2>
                  <p class="muted">The module runs in this browser with TensorFlow.js, on the same preprocessing as the service.</p>
                  ${tryError ? errorBox(`could not load the module: ${tryError}`) : tryReady ? nothing : m.links.download ? loading : nothing}
                  <div id="try-it"></div>
                </section>`
        }`,
      root,
    );
  };

  draw();
  void load();
  return {
    dispose: () => {
      disposed = true;
      if (archiveUrl) URL.revokeObjectURL(archiveUrl);
    },
  };
}
