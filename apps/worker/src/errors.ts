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
