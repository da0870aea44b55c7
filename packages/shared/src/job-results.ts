/**
 * What a completed job stores in its `result`, per job type: the ids to follow and the headline
 * figures. The worker's handlers return these types, and GET /jobs/:id documents them, so a client
 * generated from the OpenAPI document reads `result.moduleId` of a pipeline job without a cast.
 */
import Type, { type Static, type TSchema } from 'typebox';
import type { JobType } from './job-types.js';

const Id = (description: string) => Type.String({ format: 'uuid', description });
const Accuracy = (description: string) => Type.Number({ minimum: 0, maximum: 1, description });
const modularizationFigures = {
  krr: Type.Number({ description: 'Kernel retention rate averaged over the class modules.' }),
  cohesion: Type.Number(),
  coupling: Type.Number(),
};

// One example per result, each once: the pipeline's is made of the others, as its schema is.
const TRAIN_RESULT_EXAMPLE = { runId: '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d', testAccuracy: 0.965 };
const MODULARIZE_RESULT_EXAMPLE = { modularizationId: '5d1f9e0a-8c3b-4b6e-a0f2-9e4c7d2b1a33', krr: 0.35, cohesion: 0.88, coupling: 0.12 };
const REUSE_RESULT_EXAMPLE = {
  moduleId: '7c6b5a49-3827-4615-8f4e-3d2c1b0a9f8e',
  moduleRunId: '2b3c4d5e-6f70-4182-93a4-b5c6d7e8f901',
  moduleAccuracy: 0.995,
  standardAccuracy: 0.998,
};

export const TrainResult = Type.Object(
  {
    runId: Id('The training run (GET /runs/{id}).'),
    testAccuracy: Type.Union([Accuracy('Test accuracy after the last epoch.'), Type.Null()]),
  },
  { $id: 'TrainResult', description: 'Result of a train-modular or train-standard job.', examples: [TRAIN_RESULT_EXAMPLE] },
);

export const ModularizeResult = Type.Object(
  { modularizationId: Id('The modularization (GET /modularizations/{id}).'), ...modularizationFigures },
  { $id: 'ModularizeResult', examples: [MODULARIZE_RESULT_EXAMPLE] },
);

const reuseFigures = {
  moduleId: Id('The reused (sub-task) module (GET /modules/{id}, its download).'),
  moduleRunId: Id("The module's fine-tuning run."),
  moduleAccuracy: Accuracy('Accuracy of the module on the sub-task.'),
  standardAccuracy: Type.Union([Accuracy('Accuracy of the standard model on the same sub-task.'), Type.Null()]),
};

export const ReuseResult = Type.Object(reuseFigures, {
  $id: 'ReuseResult',
  examples: [REUSE_RESULT_EXAMPLE],
});

/** A finished pipeline's result, as the document shows it (here and in the Job example). */
export const PIPELINE_RESULT_EXAMPLE = {
  standardRunId: '1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d',
  modularRunId: TRAIN_RESULT_EXAMPLE.runId,
  ...MODULARIZE_RESULT_EXAMPLE,
  ...REUSE_RESULT_EXAMPLE,
};

export const PipelineResult = Type.Object(
  {
    standardRunId: Id('The standard (baseline) training run.'),
    modularRunId: Id('The modular training run.'),
    modularizationId: Id('The modularization of the modular run.'),
    ...modularizationFigures,
    ...reuseFigures,
  },
  {
    $id: 'PipelineResult',
    examples: [PIPELINE_RESULT_EXAMPLE],
  },
);

export const JOB_RESULTS = {
  'train-modular': TrainResult,
  'train-standard': TrainResult,
  modularize: ModularizeResult,
  reuse: ReuseResult,
  pipeline: PipelineResult,
} as const satisfies Record<JobType, TSchema>;

export type JobResultMap = { [T in JobType]: Static<(typeof JOB_RESULTS)[T]> };
export type JobResult<T extends JobType = JobType> = JobResultMap[T];
