/**
 * The deployment's BullMQ queue, built in this one place for the API (which adds jobs), the
 * workers (whose reconciler adds lost jobs back) and the tests: the same name, key prefix and
 * job options everywhere, so an entry added by any of them is retried and trimmed alike.
 */
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from './config.js';
import { QUEUED_JOB_OPTIONS, type QueuedJob } from './queue-protocol.js';

export type JobQueue = Queue<QueuedJob>;

export interface JobQueueOptions {
  /**
   * An ioredis client the caller owns and closes after the queue (the API shares its commands
   * client). Without one the queue opens its own from `config.redisUrl`, and `queue.close()`
   * closes it.
   */
  connection?: Redis;
  /**
   * Retries of a command while Redis is away, on a connection the queue opens (ioredis'
   * `maxRetriesPerRequest`; its default is 20): low where a caller must fail fast.
   */
  maxRetriesPerRequest?: number;
}

export function createJobQueue(config: Pick<Config, 'redisUrl' | 'queueName' | 'queuePrefix'>, options: JobQueueOptions = {}): JobQueue {
  const connection = options.connection ?? { url: config.redisUrl, maxRetriesPerRequest: options.maxRetriesPerRequest };
  return new Queue<QueuedJob>(config.queueName, { connection, prefix: config.queuePrefix, defaultJobOptions: QUEUED_JOB_OPTIONS });
}
