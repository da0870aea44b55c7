/**
 * Cancellation that reaches a job in the middle of a training step. A step on a big model holds the
 * main thread for seconds, so the main thread's pub/sub handler cannot run until it ends; a thread
 * (cancel-thread.ts) hears the DELETE instead and raises a flag in shared memory that the trainer
 * reads between layers (one Atomics.load per layer).
 */
import { Worker } from 'node:worker_threads';
import type { CancelThreadMessage } from './cancel-thread.js';

/** A thread's entry that registers tsx, then imports cancel-thread.ts. */
function tsxBootstrap(): string {
  const tsx = JSON.stringify(import.meta.resolve('tsx/esm/api'));
  const entry = JSON.stringify(new URL('./cancel-thread.ts', import.meta.url).href);
  return `import(${tsx}).then(({ register }) => { register(); return import(${entry}); })`;
}

export class CancelWatch {
  private readonly flags = new Map<string, Int32Array>();

  private constructor(private readonly thread: Worker) {}

  static start(redisUrl: string, channel: string): CancelWatch {
    const workerData = { redisUrl, channel };
    // Compiled (dist/), the thread's module is plain JavaScript beside this one. Run from sources,
    // the service's TypeScript goes through tsx, whose loader a thread does not inherit: the thread
    // registers it before it imports its module.
    const thread = import.meta.url.endsWith('.js')
      ? new Worker(new URL('./cancel-thread.js', import.meta.url), { workerData })
      : new Worker(tsxBootstrap(), { eval: true, workerData });
    // The thread must never keep a stopping worker alive.
    thread.unref();
    return new CancelWatch(thread);
  }

  /** Starts watching a job; the returned function stops it. */
  watch(jobId: string): () => void {
    const flag = new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT));
    this.flags.set(jobId, flag);
    this.post({ watch: jobId, flag: flag.buffer });
    return () => {
      this.flags.delete(jobId);
      this.post({ unwatch: jobId });
    };
  }

  isCancelled(jobId: string): boolean {
    const flag = this.flags.get(jobId);
    return flag !== undefined && Atomics.load(flag, 0) === 1;
  }

  async close(): Promise<void> {
    await this.thread.terminate();
  }

  private post(message: CancelThreadMessage): void {
    this.thread.postMessage(message);
  }
}
