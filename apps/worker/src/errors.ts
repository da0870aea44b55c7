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
