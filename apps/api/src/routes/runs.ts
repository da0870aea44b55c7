/** Training runs, their per-epoch metrics and the modules cut from them. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { principalOf, type Principal } from '../auth/principal.js';
import type { AppDeps } from '../deps.js';
import { notFound } from '../errors.js';
import { BAD_ID, IdParams, errors, json, notFoundMessage, ref } from '../schemas/common.js';
import { ModuleList, RunMetrics, RunView } from '../schemas/resources.js';
import { toMetricView, toModuleView, toRunView } from '../views.js';

const runRoutes: FastifyPluginAsyncTypebox<AppDeps> = async (app, { db }) => {
  const requireRun = async (id: string, principal: Principal) => {
    const run = await db.runs.find(principal, id);
    if (!run) throw notFound('run', id);
    return run;
  };

  app.get(
    '/runs/:id',
    {
      config: { scope: 'read' },
      schema: {
        tags: ['runs'],
        summary: 'Get a training run',
        operationId: 'getRun',
        params: IdParams,
        response: { 200: json(ref(RunView), 'The run'), ...errors({ 400: BAD_ID, 404: notFoundMessage('run') }) },
      },
    },
    async (request) => toRunView(await requireRun(request.params.id, principalOf(request))),
  );

  app.get(
    '/runs/:id/metrics',
    {
      config: { scope: 'read' },
      schema: {
        tags: ['runs'],
        summary: 'Per-epoch history of a run (every series), by epoch',
        operationId: 'getRunMetrics',
        params: IdParams,
        response: { 200: json(ref(RunMetrics), "The run's metrics, one entry per finished epoch"), ...errors({ 400: BAD_ID, 404: notFoundMessage('run') }) },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const { id } = await requireRun(request.params.id, principal);
      const rows = await db.runs.metrics(principal, id);
      return { runId: id, metrics: rows.map(toMetricView) };
    },
  );

  app.get(
    '/runs/:id/modules',
    {
      config: { scope: 'read' },
      schema: {
        tags: ['runs', 'modules'],
        summary: "Modules of the run's modularizations",
        operationId: 'listRunModules',
        params: IdParams,
        response: { 200: json(ref(ModuleList), 'The modules, oldest first'), ...errors({ 400: BAD_ID, 404: notFoundMessage('run') }) },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const { id } = await requireRun(request.params.id, principal);
      // An admin's reuse job may have cut modules from this run too: the caller's only.
      const rows = await db.modules.listOfRun(principal, id);
      return { items: rows.map(toModuleView) };
    },
  );
};

export default runRoutes;
