/**
 * One API process for an end-to-end test file, on a free port with its own queue prefix, and the
 * handles the tests use beside it: its environment (for workers), PostgreSQL, the BullMQ queue and
 * an HTTP client. Resolves once the API answers /healthz.
 */
import { createPrisma, type PrismaClient } from '@mwt/db';
import { createJobQueue, readConfig, type JobQueue } from '@mwt/shared';
import { AUTH_ENV, apiClient, type Call } from './api-client.js';
import { freePort, serviceEnv, startProcess, waitFor, type ServiceProcess } from './processes.js';

export interface TestApi {
  env: Record<string, string>;
  api: ServiceProcess;
  http: Call;
  prisma: PrismaClient;
  queue: JobQueue;
}

export async function startTestApi(extraEnv: Record<string, string> = {}): Promise<TestApi> {
  const port = await freePort();
  const env = { ...serviceEnv(port), ...AUTH_ENV, ...extraEnv };
  const config = readConfig({ ...process.env, ...env });
  const prisma = createPrisma(config.databaseUrl);
  const queue = createJobQueue(config);
  const http = apiClient(`http://127.0.0.1:${port}`);
  const api = startProcess('apps/api/src/main.ts', env);
  await waitFor('the API', async () => ((await http('GET', '/healthz')).status === 200 ? true : undefined), 60_000);
  return { env, api, http, prisma, queue };
}
