/** The life of a job: its states, and the progress a worker reports while it runs. */
import Type, { type Static } from 'typebox';

export const JOB_STATES = ['queued', 'running', 'completed', 'failed', 'cancelled'] as const;
export const JobState = Type.Enum(JOB_STATES, { description: 'queued -> running -> completed | failed | cancelled' });
export type JobState = Static<typeof JobState>;
export const FINISHED_STATES: readonly JobState[] = ['completed', 'failed', 'cancelled'];

/** What workers publish with job.updateProgress() and mirror into the Job row. */
export const Progress = Type.Object(
  {
    percent: Type.Number({ minimum: 0, maximum: 100 }),
    phase: Type.String({ description: 'e.g. loading, train-modular, modularize, reuse' }),
    epoch: Type.Optional(Type.Integer({ minimum: 0 })),
    totalEpochs: Type.Optional(Type.Integer({ minimum: 0 })),
    batch: Type.Optional(Type.Integer({ minimum: 0 })),
    totalBatches: Type.Optional(Type.Integer({ minimum: 0 })),
    message: Type.Optional(Type.String()),
  },
  { examples: [{ percent: 42.5, phase: 'train-modular', epoch: 3, totalEpochs: 5, batch: 10, totalBatches: 16 }] },
);
export type Progress = Static<typeof Progress>;
