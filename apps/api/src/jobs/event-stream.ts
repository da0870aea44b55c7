/**
 * One Server-Sent Events stream of one job (the contract is in the README, "Live events"): its
 * current state first, then one event per change as the process's ProgressHub delivers them, each
 * with the id of its position in the queue's Redis event stream, so that a client reconnecting with
 * Last-Event-ID is sent the metrics events it missed. The stream itself queries nothing: rows come
 * from the hub's shared poll. Authentication happened once, when the stream opened, so at each poll
 * the caller's key is re-checked (through the auth cache): a revoked key gets a final `error` event
 * (a 401 in the API's error shape) and the end of the stream.
 */
import type { ServerResponse } from 'node:http';
import type { FastifyBaseLogger } from 'fastify';
import type { Principal } from '@mwt/db';
import { FINISHED_STATES } from '@mwt/shared';
import { errorBody } from '../errors.js';
import type { JobStatus } from '../schemas/job.js';
import type { HubEvent, ProgressHub } from './progress-hub.js';
import { compareStreamIds } from './stream-ids.js';

const KEEP_ALIVE_MS = 15_000;
/** How long a client should wait before reconnecting (the SSE `retry:` field). */
export const RETRY_MS = 2_000;
/** The first stream of a process waits this long at most for the Redis reader before going on without live events. */
const READY_TIMEOUT_MS = 3_000;

export interface StreamOptions {
  res: ServerResponse;
  hub: ProgressHub;
  log: FastifyBaseLogger;
  /** Who opened the stream: missed metrics are replayed as they may see them. */
  principal: Principal;
  /** The job's row as the route read it. */
  first: JobStatus;
  /** A valid Last-Event-ID the client sent, or null for a first connection. */
  resumeAfter: string | null;
  /** Whether the key that opened the stream is still active; asked at every poll, so it must be cheap (cached). */
  keyActive: () => Promise<boolean>;
}

/** Starts streaming; returns a function that ends the stream (used on server shutdown). */
export function streamJob({ res, hub, log, principal, first, resumeAfter, keyActive }: StreamOptions): () => void {
  const jobId = first.id;
  let last = first;
  let lastId = '';
  let closed = false;
  let live = false;
  const buffered: HubEvent[] = [];
  let rows = Promise.resolve(); // row events are handled one at a time (the key check is async)

  const send = (event: string, id: string, data: unknown) => {
    if (closed) return;
    if (compareStreamIds(id, lastId) > 0) lastId = id;
    res.write(`event: ${event}\nid: ${lastId}\ndata: ${JSON.stringify(data)}\n\n`);
  };
  const close = () => {
    if (closed) return;
    closed = true;
    clearInterval(keepAlive);
    unsubscribe();
    res.end();
  };
  const end = (status: JobStatus, id: string) => {
    send('end', id, status);
    close();
  };

  const onRow = async (id: string, status: JobStatus | null) => {
    if (closed) return;
    // Before the row, so that nothing more is sent once the key is known to be revoked.
    if (!(await keyActive())) {
      send('error', id, errorBody(401, 'the API key was revoked'));
      close();
      return;
    }
    if (!status) {
      end(last, id);
      return;
    } // deleted under us: nothing more will come
    if (FINISHED_STATES.includes(status.state)) {
      end(status, id);
      return;
    }
    if (status.state !== last.state) send('state', id, status);
    last = status;
  };
  const handle = (event: HubEvent) => {
    if (event.kind === 'row') {
      rows = rows
        .then(() => onRow(event.id, event.status))
        // PostgreSQL down (the key's cache entry expired): keep the stream, as authentication answers 503 then, never a 401.
        .catch((err: unknown) => log.warn({ err, jobId }, 'events: checking the key failed; retrying at the next poll'));
      return;
    }
    // Already sent (replayed, or reflected in the first state): skip.
    if (compareStreamIds(event.id, lastId) <= 0) return;
    send(event.kind, event.id, event.data);
  };

  const unsubscribe = hub.subscribe(jobId, (event) => (live ? handle(event) : buffered.push(event)));
  const keepAlive = setInterval(() => !closed && res.write(': keep-alive\n\n'), KEEP_ALIVE_MS);
  res.on('close', close); // client went away

  void (async () => {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([hub.ready(), new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('timed out')), READY_TIMEOUT_MS)))])
      .catch((err: unknown) => log.warn({ err, jobId }, 'events: no Redis events (progress, metrics); following the row only'))
      .finally(() => clearTimeout(timer));
    if (closed) return;
    res.write(`retry: ${RETRY_MS}\n`); // part of the first event's block
    send('state', hub.position, first);
    if (FINISHED_STATES.includes(first.state)) {
      end(first, hub.position);
      return;
    }
    if (resumeAfter !== null) {
      try {
        for (const { id, data } of await hub.replayMetrics(principal, jobId, resumeAfter)) send('metrics', id, data);
      } catch (err) {
        log.warn({ err, jobId }, 'events: replaying missed metrics failed');
      }
    }
    live = true;
    buffered.splice(0).forEach(handle);
  })();
  return close;
}
