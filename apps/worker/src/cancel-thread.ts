/**
 * The thread behind CancelWatch: it listens on the cancel channel with its own Redis connection, so
 * it hears a DELETE while the main thread is busy in a training step, and raises the shared flag of
 * the job it names. It remembers the last ids it heard, for a job whose watch begins just after.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Redis } from 'ioredis';

export type CancelThreadMessage = { watch: string; flag: SharedArrayBuffer } | { unwatch: string };

const RECENT_LIMIT = 1_000;
const { redisUrl, channel } = workerData as { redisUrl: string; channel: string };
const flags = new Map<string, Int32Array>();
const recent = new Set<string>();

const raise = (flag: Int32Array) => Atomics.store(flag, 0, 1);

parentPort?.on('message', (message: CancelThreadMessage) => {
  if ('unwatch' in message) {
    flags.delete(message.unwatch);
    return;
  }
  const flag = new Int32Array(message.flag);
  flags.set(message.watch, flag);
  if (recent.has(message.watch)) raise(flag);
});

const subscriber = new Redis(redisUrl, { maxRetriesPerRequest: null });
// ioredis reconnects by itself; the main thread's subscriber and the heartbeat cover an outage.
subscriber.on('error', () => undefined);
subscriber.on('message', (_channel: string, jobId: string) => {
  recent.add(jobId);
  if (recent.size > RECENT_LIMIT) recent.delete(recent.values().next().value as string);
  const flag = flags.get(jobId);
  if (flag) raise(flag);
});
await subscriber.subscribe(channel);
