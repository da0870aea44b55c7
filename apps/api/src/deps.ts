/** What buildApp() is given, and what each route plugin receives as its options. */
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Database } from '@mwt/db';
import type { Config, QueuedJob } from '@mwt/shared';

export interface AppDeps {
  config: Config;
  /** PostgreSQL: the repositories (createDatabase). */
  db: Database;
  /** Commands and pub/sub publishing (cancel channel); healthz pings it. */
  redis: Redis;
  queue: Queue<QueuedJob>;
  /** How often an events stream re-reads the job row (ms); tests shorten it. */
  ssePollMs?: number;
  /** How long an API key lookup is trusted (ms; KEY_CACHE_TTL_MS by default); tests shorten it. */
  keyCacheTtlMs?: number;
}
