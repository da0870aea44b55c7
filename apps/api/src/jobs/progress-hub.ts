/**
 * The one source of every open event stream of an API process, fanned out by job id:
 *  - one BullMQ QueueEvents reader (a blocking Redis connection, far too much to open per client)
 *    brings progress, the workers' per-epoch metrics and lifecycle events (active, completed,
 *    failed, removed), each with its entry id in the queue's event stream;
 *  - the Job row stays the truth about a job's state (a worker, another API process or a cancel may
 *    change it), so the rows of every followed job are re-read together, in one query per poll
 *    interval for the whole process (not one per stream), and at once for a job whose lifecycle
 *    event just came.
 * Started on the first subscription and stopped with the last, so an API nobody streams from holds
 * no extra connection and runs no poll.
 */
import { EventEmitter } from 'node:events';
import { QueueEvents, type Queue, type QueueEventsListener } from 'bullmq';
import type { Redis } from 'ioredis';
import type { FastifyBaseLogger } from 'fastify';
import { SYSTEM_PRINCIPAL, type Database, type Principal } from '@mwt/db';
import { EPOCH_METRICS_EVENT, type EpochMetricsData, type EpochMetricsPayload } from '@mwt/shared';
import type { JobStatus } from '../schemas/job.js';
import { toJobStatus } from '../views.js';
import { STREAM_START, compareStreamIds } from './stream-ids.js';

export type HubEvent =
  | { kind: 'progress'; id: string; data: unknown }
  | { kind: 'metrics'; id: string; data: EpochMetricsData }
  /** The job's row as just read (null: deleted); `id` is the event-stream position it is current at. */
  | { kind: 'row'; id: string; status: JobStatus | null };
type Listener = (event: HubEvent) => void;

/** A replayed metrics event: its entry id, or the position at replay time when it came from PostgreSQL. */
export interface ReplayedMetrics {
  id: string;
  data: EpochMetricsData;
}

interface HubListeners extends QueueEventsListener {
  [EPOCH_METRICS_EVENT]: (args: { jobId: string; data: string }, id: string) => void;
}

/** Rows per poll query: `id IN (...)` stays cheap at this size. */
const POLL_CHUNK = 1_000;
/** At most this many entries are scanned to replay a reconnecting stream's missed metrics. */
const REPLAY_SCAN = 10_000;

export class ProgressHub {
  private readonly emitter = new EventEmitter().setMaxListeners(0);
  private events?: Promise<QueueEvents>;
  private poll?: NodeJS.Timeout;
  private readonly pending = new Set<string>();
  /** The last entry id seen in the queue's event stream. */
  private last = STREAM_START;

  constructor(
    private readonly queue: Queue,
    private readonly redis: Redis,
    private readonly db: Database,
    private readonly log: FastifyBaseLogger,
    private readonly pollMs: number,
  ) {}

  /** Where the event stream stands: every event after this id is still to come. */
  get position(): string {
    return this.last;
  }

  /** Starts delivering `jobId`'s events to `listener`; returns the unsubscribe function. */
  subscribe(jobId: string, listener: Listener): () => void {
    this.emitter.on(jobId, listener);
    this.poll ??= setInterval(() => this.refresh(this.emitter.eventNames() as string[]), this.pollMs);
    return () => {
      this.emitter.off(jobId, listener);
      if (this.emitter.eventNames().length === 0) {
        clearInterval(this.poll);
        this.poll = undefined;
      }
    };
  }

  /** Resolves once Redis events are flowing (the first caller opens the reader). */
  ready(): Promise<unknown> {
    this.events ??= this.open().catch((err: unknown) => {
      this.events = undefined; // let the next stream try again
      throw err;
    });
    return this.events;
  }

  /**
   * The metrics events of `jobId` after entry `after`, oldest first. When entries after `after` may
   * have been trimmed from Redis (it is older than the first one kept), every metric row of the job
   * is read from PostgreSQL instead: a client may then see an epoch twice, and keeps the later.
   */
  async replayMetrics(principal: Principal, jobId: string, after: string): Promise<ReplayedMetrics[]> {
    const key = this.queue.keys.events;
    const [first] = await this.redis.xrange(key, '-', '+', 'COUNT', 1);
    if (!first || compareStreamIds(after, first[0]) < 0) return this.metricsFromRows(principal, jobId);
    const entries = await this.redis.xrange(key, `(${after}`, '+', 'COUNT', REPLAY_SCAN);
    const replayed: ReplayedMetrics[] = [];
    for (const [id, fields] of entries) {
      const entry = Object.fromEntries(fields.flatMap((value, i) => (i % 2 === 0 ? [[value, fields[i + 1]]] : [])));
      if (entry.event === EPOCH_METRICS_EVENT && entry.jobId === jobId) replayed.push({ id, data: (JSON.parse(entry.data) as EpochMetricsPayload).metrics });
    }
    return replayed;
  }

  private async metricsFromRows(principal: Principal, jobId: string): Promise<ReplayedMetrics[]> {
    const rows = await this.db.runs.metricsOfJob(principal, jobId);
    const id = this.last;
    return rows.map(({ id: _id, createdAt: _at, run, ...m }) => ({ id, data: { ...m, runKind: run.kind } }));
  }

  /** Reads the rows of `jobIds` (one query per POLL_CHUNK) and hands each to its listeners. */
  private refresh(jobIds: string[]): void {
    const id = this.last;
    for (let i = 0; i < jobIds.length; i += POLL_CHUNK) {
      const chunk = jobIds.slice(i, i + POLL_CHUNK);
      // One read for every stream of the process, whoever opened it: each was allowed its job when it opened.
      this.db.jobs
        .statuses(SYSTEM_PRINCIPAL, chunk)
        .then((rows) => {
          const found = new Map(rows.map((row) => [row.id, toJobStatus(row)]));
          for (const jobId of chunk) this.emitter.emit(jobId, { kind: 'row', id, status: found.get(jobId) ?? null } satisfies HubEvent);
        })
        // PostgreSQL down: the streams stay open (authentication answers 503 then, never 401) and the next poll retries.
        .catch((err: unknown) => this.log.warn({ err }, 'events: reading the followed jobs failed; retrying at the next poll'));
    }
  }

  /** A lifecycle event: re-read that job's row soon, together with any others that changed meanwhile. */
  private changed(jobId: string): void {
    if (this.emitter.listenerCount(jobId) === 0) return;
    if (this.pending.size === 0) {
      setImmediate(() => {
        const ids = [...this.pending];
        this.pending.clear();
        this.refresh(ids);
      });
    }
    this.pending.add(jobId);
  }

  private async open(): Promise<QueueEvents> {
    // Where the stream stands before reading it: the first streams' ids must not be 0-0 for ever.
    const [top] = await this.redis.xrevrange(this.queue.keys.events, '+', '-', 'COUNT', 1);
    if (top && compareStreamIds(top[0], this.last) > 0) this.last = top[0];
    // Options rather than the client: QueueEvents then owns (and closes) its blocking connection.
    const events = new QueueEvents(this.queue.name, {
      connection: { ...this.redis.options, maxRetriesPerRequest: null },
      prefix: this.queue.opts.prefix,
      lastEventId: this.last,
    });
    const seen = (id: string) => {
      if (compareStreamIds(id, this.last) > 0) this.last = id;
    };
    const emit = (jobId: string, event: HubEvent) => this.emitter.emit(jobId, event);
    events.on('progress', ({ jobId, data }, id) => (seen(id), emit(jobId, { kind: 'progress', id, data })));
    events.on<HubListeners>(EPOCH_METRICS_EVENT, ({ jobId, data }: { jobId: string; data: string }, id: string) => {
      seen(id);
      emit(jobId, { kind: 'metrics', id, data: (JSON.parse(data) as EpochMetricsPayload).metrics });
    });
    for (const lifecycle of ['active', 'completed', 'failed', 'removed'] as const) {
      events.on(lifecycle, ({ jobId }: { jobId: string }, id: string) => (seen(id), this.changed(jobId)));
    }
    events.on('error', (err) => this.log.warn({ err }, 'queue events error'));
    try {
      await events.waitUntilReady();
    } catch (err) {
      await events.close().catch(() => undefined);
      throw err;
    }
    return events;
  }

  async close(): Promise<void> {
    clearInterval(this.poll);
    this.poll = undefined;
    const events = await this.events?.catch(() => undefined);
    this.events = undefined;
    await events?.close();
  }
}
