/**
 * HTTP to an API process for the e2e tests, and the one place they authenticate: every request
 * carries `Authorization: Bearer <testApiKey()>`. API processes the tests start get AUTH_ENV.
 */
import { createDatabase } from '@mwt/db';
import { readConfig } from '@mwt/shared';
import { createApiKey } from '../../apps/api/src/auth/api-keys.js';

/** Environment of an API process under test: API keys required, as in production. */
export const AUTH_ENV: Record<string, string> = { MWT_AUTH: 'enabled' };

/** An admin key in the test database (DATABASE_URL), made by the code `npm run keys -- create` runs. */
async function createAdminKey(): Promise<string> {
  const db = createDatabase(readConfig().databaseUrl);
  try {
    return (await createApiKey(db, { name: 'e2e tests', scopes: ['admin'] })).secret;
  } finally {
    await db.close();
  }
}

// Once per test process, on first import; MWT_TEST_API_KEY names an existing key instead.
const key = process.env.MWT_TEST_API_KEY ?? (await createAdminKey());

export function testApiKey(): string {
  return key;
}

/** The fields of GET /jobs/:id the e2e tests read. */
export interface JobView {
  id: string;
  state: string;
  progress: number;
  attempts: number;
  message: string | null;
  error: string | null;
}

/** The error shape of every non-2xx answer. */
export interface ErrorBody {
  statusCode: number;
  message: string;
}

export interface Reply<T> {
  status: number;
  body: T;
  headers: Headers;
  /** How long the API took to answer. */
  ms: number;
}

export type Call = <T>(method: string, path: string, body?: unknown) => Promise<Reply<T>>;

/** A JSON client of the API at `base`; a request that takes longer than `timeoutMs` rejects. */
export function apiClient(base: string, timeoutMs = 30_000): Call {
  return async <T>(method: string, path: string, body?: unknown): Promise<Reply<T>> => {
    const started = Date.now();
    const response = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${testApiKey()}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await response.text();
    const parsed = (response.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text) as T;
    return { status: response.status, body: parsed, headers: response.headers, ms: Date.now() - started };
  };
}
