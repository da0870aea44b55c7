/** Training runs, their per-epoch metrics and the modules cut from them. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ownedThroughJob, principalOf, type Principal } from '../auth/principal.js';
import type { AppDeps } from '../deps.js';
import { notFound } from '../errors.js';
import { BAD_ID, IdParams, errors, json, notFoundMessage, ref } from '../schemas/common.js';
import { ModuleList, RunMetrics, RunView } from '../schemas/resources.js';
import { toMetricView, toModuleView, toRunView } from '../views.js';

const runRoutes: FastifyPluginAsyncTypebox<AppDeps> = async (app, { prisma }) => {
  const requireRun = async (id: string, principal: Principal) => {
    const run = await prisma.run.findFirst({ where: { id, ...ownedThroughJob(principal) } });
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
      const { id } = await requireRun(request.params.id, principalOf(request));
      const rows = await prisma.epochMetric.findMany({ where: { runId: id }, orderBy: { epoch: 'asc' } });
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
      const rows = await prisma.module.findMany({
        // An admin's reuse job may have cut modules from this run too: list the caller's only.
        where: { modularization: { runId: id }, ...ownedThroughJob(principal) },
        omit: { mask: true },
        orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
      });
      return { items: rows.map(toModuleView) };
    },
  );
};

export default runRoutes;
