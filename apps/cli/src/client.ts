/** HTTP to the API with the login's key; a non-2xx answer becomes a CliError carrying the API's message. */
import type { Login } from './config.js';
import { CliError } from './errors.js';

export interface ApiClient {
  readonly login: Login;
  json<T>(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<T>;
  /** The raw response of a GET (downloads, event streams); throws on a non-2xx status. */
  raw(path: string, init?: RequestInit): Promise<Response>;
}

async function failure(response: Response, what: string): Promise<CliError> {
  const text = await response.text().catch(() => '');
  let message = text;
  try {
    message = (JSON.parse(text) as { message?: string }).message ?? text;
  } catch {
    // not JSON: keep the text
  }
  return new CliError(`${what}: ${response.status} ${message}`.trim());
}

export function apiClient(login: Login): ApiClient {
  const authorization = `Bearer ${login.key}`;
  const call = async (path: string, init: RequestInit = {}) => {
    try {
      return await fetch(`${login.url}${path}`, { ...init, headers: { authorization, ...(init.headers as Record<string, string>) } });
    } catch (error) {
      const cause = (error as { cause?: Error }).cause?.message ?? (error as Error).message;
      throw new CliError(`cannot reach ${login.url}: ${cause}`);
    }
  };
  return {
    login,
    async json<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
      const init: RequestInit = { method, headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) } };
      if (body !== undefined) init.body = JSON.stringify(body);
      const response = await call(path, init);
      if (!response.ok) throw await failure(response, `${method} ${path}`);
      return (await response.json()) as T;
    },
    async raw(path: string, init: RequestInit = {}): Promise<Response> {
      const response = await call(path, init);
      if (!response.ok) throw await failure(response, `GET ${path}`);
      return response;
    },
  };
}
