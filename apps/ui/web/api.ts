/** The dashboard's calls to the API: JSON in and out, the key in the header, errors as ApiError. */
import { authHeaders } from './session.js';

/** A non-2xx answer: the API's `{ statusCode, error, message }`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** Called on any 401, so the app can send the user back to sign-in. */
let onUnauthorized: (message: string) => void = () => undefined;
export function whenUnauthorized(handler: (message: string) => void): void {
  onUnauthorized = handler;
}

async function request(path: string, init: RequestInit = {}): Promise<Response> {
  // init.headers may be a Headers or a list of pairs, which an object spread would mangle.
  const headers = new Headers(authHeaders());
  new Headers(init.headers).forEach((value, name) => headers.set(name, value));
  const response = await fetch(path, { ...init, headers });
  if (response.ok) return response;
  const text = await response.text();
  let message = `${response.status} ${response.statusText}`;
  try {
    const body = JSON.parse(text) as { message?: unknown };
    if (typeof body.message === 'string') message = body.message;
  } catch {
    // not JSON: keep the status line
  }
  if (response.status === 401) onUnauthorized(message);
  throw new ApiError(response.status, message);
}

export async function getJson<T>(path: string): Promise<T> {
  return (await (await request(path)).json()) as T;
}

export async function sendJson<T>(method: 'POST' | 'DELETE', path: string, body?: unknown): Promise<T> {
  const init: RequestInit = body === undefined ? { method } : { method, body: JSON.stringify(body), headers: { 'content-type': 'application/json' } };
  return (await (await request(path, init)).json()) as T;
}

export async function getBytes(path: string): Promise<Uint8Array> {
  return new Uint8Array(await (await request(path)).arrayBuffer());
}

/** Tries a key (or none) against a cheap authenticated route; resolves true when accepted. */
export async function keyWorks(headers: Record<string, string>): Promise<boolean> {
  const response = await fetch('/jobs?limit=1', { headers });
  if (response.status === 401) return false;
  if (!response.ok) throw new ApiError(response.status, `the API answered ${response.status}`);
  return true;
}
