/** Training runs, their per-epoch metrics and the modules cut from them. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AppDeps } from '../deps.js';
import { notFound } from '../errors.js';
import { IdParams, errors } from '../schemas/common.js';
import { ModuleList, RunMetrics, RunView } from '../schemas/resources.js';
import { toMetricView, toModuleView, toRunView } from '../views.js';

const runRoutes: FastifyPluginAsyncTypebox<AppDeps> = async (app, { prisma }) => {
  const requireRun = async (id: string) => {
    const run = await prisma.run.findUnique({ where: { id } });
    if (!run) throw notFound('run', id);
    return run;
  };

  app.get(
    '/runs/:id',
    { schema: { tags: ['runs'], summary: 'Get a training run', params: IdParams, response: { 200: RunView, ...errors(400, 404) } } },
    async (request) => toRunView(await requireRun(request.params.id)),
  );

  app.get(
    '/runs/:id/metrics',
    {
      schema: {
        tags: ['runs'],
        summary: 'Per-epoch history of a run (every series), by epoch',
        params: IdParams,
        response: { 200: RunMetrics, ...errors(400, 404) },
      },
    },
    async (request) => {
      const { id } = await requireRun(request.params.id);
      const rows = await prisma.epochMetric.findMany({ where: { runId: id }, orderBy: { epoch: 'asc' } });
      return { runId: id, metrics: rows.map(toMetricView) };
    },
  );

  app.get(
    '/runs/:id/modules',
    {
      schema: {
        tags: ['runs', 'modules'],
        summary: "Modules of the run's modularizations",
        params: IdParams,
        response: { 200: ModuleList, ...errors(400, 404) },
      },
    },
    async (request) => {
      const { id } = await requireRun(request.params.id);
      const rows = await prisma.module.findMany({
        where: { modularization: { runId: id } },
        omit: { mask: true },
        orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
      });
      return { items: rows.map(toModuleView) };
    },
  );
};

export default runRoutes;
