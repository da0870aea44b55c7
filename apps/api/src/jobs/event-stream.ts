/**
 * One Server-Sent Events stream of one job. The Job row is the truth (a worker, another API
 * instance or a cancel may change it), so it is re-read every pollMs and at once when BullMQ
 * reports the job finished; BullMQ progress events are forwarded as they come, for a live
 * bar between row updates. Authentication happened once, when the stream opened, so each poll
 * also re-checks the caller's key: a revoked key gets a final `error` event (a 401 in the API's
 * error shape) and the end of the stream, rather than the job's progress for as long as it runs.
 */
import type { ServerResponse } from 'node:http';
import type { FastifyBaseLogger } from 'fastify';
import type { PrismaClient } from '@mwt/db';
import { FINISHED_STATES } from '@mwt/shared';
import { errorBody } from '../errors.js';
import type { JobStatus } from '../schemas/job.js';
import { toJobStatus } from '../views.js';
import type { ProgressHub } from './progress-hub.js';

const KEEP_ALIVE_MS = 15_000;

export interface StreamOptions {
  res: ServerResponse;
  prisma: PrismaClient;
  hub: ProgressHub;
  log: FastifyBaseLogger;
  first: JobStatus;
  pollMs: number;
  /** Whether the key that opened the stream is still active; asked at every poll, so it must be cheap (cached). */
  keyActive: () => Promise<boolean>;
}

/** Starts streaming; returns a function that ends the stream (used on server shutdown). */
export function streamJob({ res, prisma, hub, log, first, pollMs, keyActive }: StreamOptions): () => void {
  const jobId = first.id;
  let last = JSON.stringify(first);
  let closed = false;
  let refreshing = false;
  let unsubscribe: (() => void) | undefined;
  const timers: NodeJS.Timeout[] = [];

  const send = (event: string, data: unknown) => {
    if (!closed) res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  };
  const close = () => {
    if (closed) return;
    closed = true;
    timers.forEach(clearInterval);
    unsubscribe?.();
    res.end();
  };
  const end = (status: JobStatus) => {
    send('end', status);
    close();
  };

  const refresh = async () => {
    if (closed || refreshing) return;
    refreshing = true;
    try {
      // Before the row, so that nothing more is sent once the key is known to be revoked.
      if (!(await keyActive())) {
        send('error', errorBody(401, 'the API key was revoked'));
        return close();
      }
      const row = await prisma.job.findUnique({ where: { id: jobId } });
      if (!row) return end(JSON.parse(last) as JobStatus); // deleted under us: nothing more will come
      const status = toJobStatus(row);
      const key = JSON.stringify(status);
      if (FINISHED_STATES.includes(status.state)) return end(status);
      if (key !== last) send('state', status);
      last = key;
    } catch (err) {
      // PostgreSQL down: keep the stream (as authentication answers 503, never a 401) and retry.
      log.warn({ err, jobId }, 'events: checking the key or reading the job failed; retrying at the next poll');
    } finally {
      refreshing = false;
    }
  };

  res.on('close', close); // client went away
  send('state', first);
  if (FINISHED_STATES.includes(first.state)) {
    end(first);
    return close;
  }
  timers.push(setInterval(() => void refresh(), pollMs));
  timers.push(setInterval(() => !closed && res.write(': keep-alive\n\n'), KEEP_ALIVE_MS));
  hub
    .subscribe(jobId, (event) => (event.kind === 'progress' ? send('progress', event.data) : void refresh()))
    .then((off) => (closed ? off() : (unsubscribe = off)))
    .catch((err: unknown) => log.warn({ err, jobId }, 'events: no BullMQ events, polling the row only'));
  return close;
}
