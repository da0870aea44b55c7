/**
 * One API process for an end-to-end test file, on a free port with its own queue prefix, and the
 * handles the tests use beside it: its environment (for workers), PostgreSQL, the BullMQ queue and
 * an HTTP client. Resolves once the API answers /healthz; stop() undoes all of it.
 */
import { createPrisma, type PrismaClient } from '@mwt/db';
import { createJobQueue, readConfig, type JobQueue } from '@mwt/shared';
import { AUTH_ENV, apiClient, type Call } from './api-client.js';
import { freePort, removeServiceKeys, serviceEnv, startProcess, waitFor, type ServiceProcess } from './processes.js';

export interface TestApi {
  env: Record<string, string>;
  api: ServiceProcess;
  http: Call;
  prisma: PrismaClient;
  queue: JobQueue;
  /**
   * Stops the API, deletes the rows of `jobIds` (with what cascades from them), empties the queue,
   * removes every Redis key under this process's test prefixes and closes the handles: what a test
   * file created is gone. Stop the file's workers first.
   */
  stop(jobIds?: readonly string[]): Promise<void>;
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
  const stop = async (jobIds: readonly string[] = []) => {
    await api.stop();
    await prisma.job.deleteMany({ where: { id: { in: [...jobIds] } } });
    await queue.obliterate({ force: true });
    await removeServiceKeys();
    await Promise.all([queue.close(), prisma.$disconnect()]);
  };
  return { env, api, http, prisma, queue, stop };
}
