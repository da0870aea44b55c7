/** API process: real connections from the environment (see CONFIG_VARS), graceful shutdown. */
import { Redis } from 'ioredis';
import { createDatabase } from '@mwt/db';
import { createJobQueue, readConfig } from '@mwt/shared';
import { buildApp } from './app.js';

const SHUTDOWN_GRACE_MS = 10_000;

const config = readConfig();
const db = createDatabase(config.databaseUrl, { queryTimeoutMs: config.dbQueryTimeoutMs });
// Few retries per command: with Redis down, POST /jobs should answer 503 soon, not queue for ever.
const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 2 });
const queue = createJobQueue(config, { connection: redis });
const app = await buildApp({ config, db, redis, queue });

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  app.log.info({ signal }, 'shutting down');
  // A hung close must not keep the container from stopping.
  setTimeout(() => process.exit(1), SHUTDOWN_GRACE_MS).unref();
  try {
    await app.close();
    await queue.close();
    await redis.quit();
    await db.close();
    process.exit(0);
  } catch (err) {
    app.log.error({ err }, 'shutdown failed');
    process.exit(1);
  }
}
process.once('SIGTERM', () => void shutdown('SIGTERM'));
process.once('SIGINT', () => void shutdown('SIGINT'));

try {
  await app.listen({ port: config.port, host: config.host });
} catch (err) {
  app.log.error({ err }, 'could not listen');
  process.exit(1);
}
