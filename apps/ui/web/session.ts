/**
 * The API key of this tab: kept in sessionStorage only (gone when the tab closes), sent in the
 * Authorization header, never put in a URL or logged. `null` with auth disabled on the API.
 */
const KEY = 'mwt.apiKey';

export function apiKey(): string | null {
  return sessionStorage.getItem(KEY);
}

export function signIn(key: string): void {
  sessionStorage.setItem(KEY, key);
}

export function signOut(): void {
  sessionStorage.removeItem(KEY);
}

export function authHeaders(): Record<string, string> {
  const key = apiKey();
  return key ? { authorization: `Bearer ${key}` } : {};
}
