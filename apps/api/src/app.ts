/**
 * The HTTP API as a Fastify instance. Connections are passed in (main.ts opens real ones,
 * tests their own), and closing the app leaves them open: whoever opened them closes them.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { ArtifactCache } from './artifact-cache.js';
import { requireApiKeys } from './auth/authentication.js';
import { KeyCache } from './auth/key-cache.js';
import type { AppDeps } from './deps.js';
import { errorHandler, frameworkErrors, notFoundHandler, schemaErrorFormatter } from './errors.js';
import { useBoundedJsonParser } from './json-body.js';
import { registerOpenApi } from './openapi.js';
import { rateLimitOptions } from './rate-limit.js';
import { echoRequestId, requestIdOf } from './request-id.js';
import artifactRoutes from './routes/artifacts.js';
import datasetRoutes from './routes/datasets.js';
import healthRoutes from './routes/health.js';
import jobEventRoutes from './routes/job-events.js';
import jobRoutes from './routes/jobs.js';
import keyRoutes from './routes/keys.js';
import metricsRoutes, { requestMetrics } from './routes/metrics.js';
import modelRoutes from './routes/models.js';
import moduleRoutes from './routes/modules.js';
import runRoutes from './routes/runs.js';
import uiRoutes from './routes/ui.js';
import { AJV_OPTIONS, buildValidator } from './validation.js';

export type { AppDeps } from './deps.js';

/** Job bodies are a few hundred bytes; anything near this is not one. */
const BODY_LIMIT_BYTES = 64 * 1024;

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    logger: { level: deps.config.logLevel },
    bodyLimit: BODY_LIMIT_BYTES,
    // A request not received whole in time gets a 408 (Node's own answer); Node looks for such
    // requests every connectionsCheckingInterval, 30 s by default: often enough to keep the bound.
    requestTimeout: deps.config.requestTimeoutMs,
    http: { connectionsCheckingInterval: Math.min(1_000, deps.config.requestTimeoutMs), headersTimeout: deps.config.requestTimeoutMs },
    ajv: AJV_OPTIONS,
    schemaController: { compilersFactory: { buildValidator: buildValidator() } },
    schemaErrorFormatter,
    genReqId: requestIdOf,
    frameworkErrors,
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler(notFoundHandler);
  useBoundedJsonParser(app);
  echoRequestId(app);
  if (deps.config.auth === 'disabled') {
    app.log.warn('MWT_AUTH=disabled: NO AUTHENTICATION, every request is treated as admin. For a local demo only; never expose this API.');
  }

  // First, so that its onRoute hook sees every route, the docs' included.
  await app.register(rateLimit, rateLimitOptions(deps.config));
  await app.register(requestMetrics);
  await registerOpenApi(app);
  await app.register(healthRoutes, deps);
  await app.register(uiRoutes);
  for (const routes of [modelRoutes, datasetRoutes]) await app.register(routes);

  const keyCache = new KeyCache(deps.db, deps.keyCacheTtlMs);
  const artifactCache = new ArtifactCache(deps.config.artifactCacheMb * 1024 * 1024);
  await app.register(async (api) => {
    requireApiKeys(api, deps.config, keyCache);
    await api.register(jobRoutes, deps);
    await api.register(jobEventRoutes, { ...deps, keyCache });
    await api.register(runRoutes, deps);
    for (const routes of [moduleRoutes, artifactRoutes]) await api.register(routes, { ...deps, artifactCache });
    await api.register(keyRoutes, { ...deps, keyCache });
    await api.register(metricsRoutes, deps);
  });
  return app;
}
