/**
 * The cancel requests this worker acts on. Every worker of a deployment hears every cancel on the
 * pub/sub channel, most of them for jobs it does not run: only ids of the jobs running here are
 * kept, and each goes when its job ends, so the set never holds more than the worker's concurrency.
 * A cancel that arrives before its job starts here needs no entry: the job reads cancelRequested
 * from its row when it starts, and again with each heartbeat.
 */
export class Cancellations {
  /** Job id -> whether a cancel was requested, for the jobs running on this worker. */
  private readonly running = new Map<string, boolean>();

  /** A job started here: cancel requests for it are kept from now on. */
  begin(jobId: string): void {
    if (!this.running.has(jobId)) this.running.set(jobId, false);
  }

  /** The job ended here (finished, failed, cancelled or requeued): forget it. */
  end(jobId: string): void {
    this.running.delete(jobId);
  }

  /** A cancel request (from pub/sub or the heartbeat): recorded only for a job running here. */
  request(jobId: string): void {
    if (this.running.has(jobId)) this.running.set(jobId, true);
  }

  isCancelled(jobId: string): boolean {
    return this.running.get(jobId) === true;
  }

  /** How many jobs run here now (0: the worker is idle). */
  get size(): number {
    return this.running.size;
  }
}
