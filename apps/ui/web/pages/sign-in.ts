/** Sign-in with an API key; the key is checked against the API and kept in sessionStorage only. */
import { html, render } from 'lit-html';
import { keyWorks } from '../api.js';
import { messageOf, type Page } from '../parts/common.js';
import { signIn } from '../session.js';

export function signInPage(root: HTMLElement, notice: string | null, onSignedIn: () => void): Page {
  let error: string | null = notice;
  let busy = false;

  const submit = async (event: SubmitEvent) => {
    event.preventDefault();
    const input = root.querySelector<HTMLInputElement>('#api-key');
    const key = input?.value.trim() ?? '';
    if (!key) {
      error = 'Enter an API key.';
      return draw();
    }
    busy = true;
    draw();
    try {
      if (await keyWorks({ authorization: `Bearer ${key}` })) {
        signIn(key);
        onSignedIn();
        return;
      }
      error = 'The API did not accept this key (unknown or revoked).';
    } catch (e) {
      error = messageOf(e);
    }
    busy = false;
    draw();
    input?.focus();
  };

  const draw = () =>
    render(
      html`<section class="card sign-in" aria-labelledby="sign-in-title">
        <h1 id="sign-in-title" tabindex="-1">Sign in</h1>
        <p>This API needs an API key. Create one with <code>npm run keys -- create --name me --scopes read,submit</code>.</p>
        <form @submit=${submit} novalidate>
          <div class="field">
            <label for="api-key">API key</label>
            <input
              id="api-key"
              name="api-key"
              type="password"
              autocomplete="off"
              spellcheck="false"
              placeholder="mwt_…"
              aria-describedby="key-hint ${error ? 'key-error' : ''}"
              aria-invalid=${error ? 'true' : 'false'}
            />
            <small id="key-hint">Kept in this tab only (sessionStorage) and sent in the Authorization header.</small>
            ${error ? html`<p class="field-error" id="key-error" role="alert">${error}</p>` : ''}
          </div>
          <button type="submit" ?disabled=${busy}>${busy ? 'Checking…' : 'Sign in'}</button>
        </form>
      </section>`,
      root,
    );

  draw();
  return { dispose: () => undefined };
}
