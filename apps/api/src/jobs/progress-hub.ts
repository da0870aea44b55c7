/**
 * One BullMQ QueueEvents reader per API process, fanned out to the open event streams by
 * job id: a QueueEvents holds a blocking Redis connection, far too much to open per client.
 * Started on the first subscription, so an API nobody streams from holds no extra connection.
 */
import { EventEmitter } from 'node:events';
import { QueueEvents, type Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { FastifyBaseLogger } from 'fastify';

export type HubEvent = { kind: 'progress'; data: unknown } | { kind: 'finished' };
type Listener = (event: HubEvent) => void;

export class ProgressHub {
  private readonly emitter = new EventEmitter().setMaxListeners(0);
  private events?: Promise<QueueEvents>;

  constructor(
    private readonly queue: Queue,
    private readonly redis: Redis,
    private readonly log: FastifyBaseLogger,
  ) {}

  /** Resolves once events are flowing; returns the unsubscribe function. */
  async subscribe(jobId: string, listener: Listener): Promise<() => void> {
    await this.start();
    this.emitter.on(jobId, listener);
    return () => this.emitter.off(jobId, listener);
  }

  private start(): Promise<QueueEvents> {
    this.events ??= this.open().catch((err: unknown) => {
      this.events = undefined; // let the next subscriber try again
      throw err;
    });
    return this.events;
  }

  private async open(): Promise<QueueEvents> {
    // Options rather than the client: QueueEvents then owns (and closes) its blocking connection.
    const events = new QueueEvents(this.queue.name, {
      connection: { ...this.redis.options, maxRetriesPerRequest: null },
      prefix: this.queue.opts.prefix,
    });
    const emit = (jobId: string, event: HubEvent) => this.emitter.emit(jobId, event);
    events.on('progress', ({ jobId, data }) => emit(jobId, { kind: 'progress', data }));
    events.on('completed', ({ jobId }) => emit(jobId, { kind: 'finished' }));
    events.on('failed', ({ jobId }) => emit(jobId, { kind: 'finished' }));
    events.on('removed', ({ jobId }) => emit(jobId, { kind: 'finished' }));
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
    const events = await this.events?.catch(() => undefined);
    this.events = undefined;
    await events?.close();
  }
}
