/**
 * The dashboard: signs in (or finds that the API runs without authentication), then shows the
 * page for the current path under /ui/.
 */
import { html, render } from 'lit-html';
import { keyWorks, whenUnauthorized } from './api.js';
import type { Page } from './parts/common.js';
import { jobPage } from './pages/job.js';
import { jobsPage } from './pages/jobs.js';
import { modularizationPage } from './pages/modularization.js';
import { modulePage } from './pages/module.js';
import { signInPage } from './pages/sign-in.js';
import { href, parseRoute, startRouter } from './router.js';
import { apiKey, signOut } from './session.js';
import './styles.css';

const main = document.getElementById('main') as HTMLElement;
const account = document.getElementById('account') as HTMLElement;
let current: Page | null = null;
/** null until known; 'key': signed in with a key; 'open': the API runs with MWT_AUTH=disabled. */
let access: 'key' | 'open' | null = null;
let notice: string | null = null;

function show(page: (root: HTMLElement) => Page): void {
  current?.dispose();
  const root = document.createElement('div');
  main.replaceChildren(root);
  current = page(root);
  // Move focus to the new page's heading, so keyboard and screen-reader users start there.
  requestAnimationFrame(() => root.querySelector<HTMLElement>('h1')?.focus({ preventScroll: true }));
}

function drawAccount(): void {
  render(
    access === 'key'
      ? html`<button
          class="link"
          @click=${() => {
            signOut();
            access = null;
            notice = null;
            void route();
          }}
        >
          Sign out
        </button>`
      : access === 'open'
        ? html`<span class="badge warn" title="MWT_AUTH=disabled: every request is admin">no authentication</span>`
        : html``,
    account,
  );
}

async function resolveAccess(): Promise<void> {
  if (access) return;
  if (apiKey()) access = 'key';
  else if (await keyWorks({}).catch(() => false)) access = 'open';
}

async function route(): Promise<void> {
  await resolveAccess();
  drawAccount();
  if (!access) {
    show((root) =>
      signInPage(root, notice, () => {
        access = 'key';
        notice = null;
        void route();
      }),
    );
    return;
  }
  const r = parseRoute(location);
  document.title = `${r.page === 'jobs' ? 'Jobs' : r.page === 'not-found' ? 'Not found' : r.page[0].toUpperCase() + r.page.slice(1)} · MwT dashboard`;
  switch (r.page) {
    case 'jobs': {
      show((root) => jobsPage(root, r.query));
      return;
    }
    case 'job': {
      show((root) => jobPage(root, r.id));
      return;
    }
    case 'modularization': {
      show((root) => modularizationPage(root, r.id));
      return;
    }
    case 'module': {
      show((root) => modulePage(root, r.id));
      return;
    }
    case 'not-found': {
      show((root) => {
        render(
          html`<h1 tabindex="-1">Not found</h1>
            <p>Nothing at ${r.path}. <a href=${href.jobs()}>Back to the jobs</a>.</p>`,
          root,
        );
        return { dispose: () => undefined };
      });
      return;
    }
  }
}

whenUnauthorized((message) => {
  if (access !== 'key') return;
  signOut();
  access = null;
  notice = `Signed out: ${message}`;
  void route();
});
startRouter(() => void route());
void route();
