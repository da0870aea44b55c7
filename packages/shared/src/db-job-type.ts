/** How PostgreSQL spells a job type: its enum values cannot contain '-' (train-modular <-> train_modular). */
import type { JobType } from './job-types.js';

export type DbJobType = 'train_modular' | 'train_standard' | 'modularize' | 'reuse' | 'pipeline';
export const toDbJobType = (type: JobType): DbJobType => type.replace('-', '_') as DbJobType;
export const fromDbJobType = (type: DbJobType): JobType => type.replace('_', '-') as JobType;
