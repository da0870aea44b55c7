/**
 * Paths of the dashboard under /ui/ (the API answers index.html for each of them), followed with
 * the History API: links with data-nav or an /ui/ href open in place, Back and Forward work.
 */
export const BASE = '/ui/';

export type Route =
  | { page: 'jobs'; query: URLSearchParams }
  | { page: 'job'; id: string }
  | { page: 'modularization'; id: string }
  | { page: 'module'; id: string }
  | { page: 'not-found'; path: string };

export function parseRoute(location: Location): Route {
  const path = location.pathname.startsWith(BASE) ? location.pathname.slice(BASE.length) : location.pathname;
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  if (parts.length === 0 || (parts.length === 1 && parts[0] === 'jobs')) return { page: 'jobs', query: new URLSearchParams(location.search) };
  if (parts.length === 2) {
    const [kind, id] = parts;
    if (kind === 'jobs') return { page: 'job', id };
    if (kind === 'modularizations') return { page: 'modularization', id };
    if (kind === 'modules') return { page: 'module', id };
  }
  return { page: 'not-found', path: location.pathname };
}

export const href = {
  jobs: (query?: URLSearchParams) => `${BASE}${query && query.size > 0 ? `?${query}` : ''}`,
  job: (id: string) => `${BASE}jobs/${id}`,
  modularization: (id: string) => `${BASE}modularizations/${id}`,
  module: (id: string) => `${BASE}modules/${id}`,
};

let listener: () => void = () => undefined;

export function navigate(to: string, replace = false): void {
  if (replace) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  listener();
}

/** Calls `onChange` on every navigation: link clicks inside the app, Back/Forward, navigate(). */
export function startRouter(onChange: () => void): void {
  listener = onChange;
  window.addEventListener('popstate', onChange);
  document.addEventListener('click', (event) => {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    const link = (event.target as Element | null)?.closest('a');
    if (!link || link.target || link.hasAttribute('download')) return;
    const url = new URL(link.href, location.href);
    if (url.origin !== location.origin || !url.pathname.startsWith(BASE)) return;
    event.preventDefault();
    navigate(url.pathname + url.search);
  });
}
