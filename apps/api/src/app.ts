/**
 * The HTTP API as a Fastify instance. Connections are passed in (main.ts opens real ones,
 * tests their own), and closing the app leaves them open: whoever opened them closes them.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { AppDeps } from './deps.js';
import { errorHandler, notFoundHandler, schemaErrorFormatter } from './errors.js';
import artifactRoutes from './routes/artifacts.js';
import healthRoutes from './routes/health.js';
import jobEventRoutes from './routes/job-events.js';
import jobRoutes from './routes/jobs.js';
import moduleRoutes from './routes/modules.js';
import runRoutes from './routes/runs.js';
import { ErrorBody } from './schemas/common.js';

export type { AppDeps } from './deps.js';

const TAGS = [
  { name: 'jobs', description: 'Submit MwT jobs (train, modularize, reuse, pipeline), follow and cancel them.' },
  { name: 'runs', description: 'Training runs and their per-epoch metrics.' },
  { name: 'modules', description: 'Modularizations of modular runs and the modules cut from them.' },
  { name: 'artifacts', description: 'Stored files: model weights, module sets, modules.' },
  { name: 'health', description: 'Liveness of the API and its backends.' },
];

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    logger: { level: deps.config.logLevel },
    ajv: {
      customOptions: {
        // POST /jobs is a oneOf keyed on `type`: validate only the branch `type` names.
        discriminator: true,
        // Reject unknown fields (400) instead of silently dropping them: a typo must not go unnoticed.
        removeAdditional: false,
      },
    },
    schemaErrorFormatter,
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler(notFoundHandler);
  app.addSchema(ErrorBody);

  await app.register(swagger, {
    openapi: {
      // 3.1: its schemas are JSON Schema 2020-12, so TypeBox's output (numeric
      // exclusiveMinimum, `examples`, `const`) is valid as is.
      openapi: '3.1.0',
      info: {
        title: 'MwT job service',
        version: '0.1.0',
        description: 'Modularizing-while-training: train modular CNNs, cut them into per-class modules, reuse the modules.',
      },
      tags: TAGS,
    },
    refResolver: {
      // Name shared components after their $id (ErrorBody) rather than def-0.
      buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`),
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  for (const routes of [jobRoutes, jobEventRoutes, runRoutes, moduleRoutes, artifactRoutes, healthRoutes]) {
    await app.register(routes, deps);
  }
  return app;
}
