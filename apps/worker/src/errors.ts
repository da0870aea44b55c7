/**
 * A job whose input cannot work (a run that is not completed, a class the dataset does not have):
 * it fails once with this message instead of being retried.
 */
export class InputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InputError';
  }
}

/** The worker is shutting down before a job could start: it goes back to the queue untouched. */
export class ShuttingDown extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ShuttingDown';
  }
}

/**
 * The worker's resident memory passed its budget (MWT_WORKER_MEMORY_MB) during a job: the job fails
 * once, like bad input, because a retry would only take the next worker's memory too.
 */
export class MemoryBudgetExceeded extends InputError {
  constructor(rssBytes: number, budgetMb: number, where: string) {
    const mb = (bytes: number) => `${Math.round(bytes / (1024 * 1024))} MB`;
    super(`the worker's memory reached ${mb(rssBytes)} ${where}, above its budget of ${budgetMb} MB (MWT_WORKER_MEMORY_MB); not retried: use a smaller batchSize or model`);
    this.name = 'MemoryBudgetExceeded';
  }
}
