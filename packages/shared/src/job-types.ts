/** The kinds of job the service runs: the one list every layer (HTTP, database, queue, worker) names them from. */
export const JOB_TYPES = ['train-modular', 'train-standard', 'modularize', 'reuse', 'pipeline'] as const;
export type JobType = (typeof JOB_TYPES)[number];
