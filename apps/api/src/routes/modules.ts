/** Modularizations and their modules, with module downloads. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AppDeps } from '../deps.js';
import { sendArtifact } from '../download.js';
import { HttpError, notFound } from '../errors.js';
import { BinaryResponse, IdParams, errors } from '../schemas/common.js';
import { ModularizationView, ModuleView } from '../schemas/resources.js';
import { toModularizationView, toModuleView } from '../views.js';

const moduleRoutes: FastifyPluginAsyncTypebox<AppDeps> = async (app, { prisma }) => {
  const requireModule = async (id: string) => {
    const module = await prisma.module.findUnique({ where: { id }, omit: { mask: true } });
    if (!module) throw notFound('module', id);
    return module;
  };

  app.get(
    '/modularizations/:id',
    {
      schema: {
        tags: ['modules'],
        summary: 'Get a modularization (threshold, KRR, cohesion, coupling, layers) and its module ids',
        params: IdParams,
        response: { 200: ModularizationView, ...errors(400, 404) },
      },
    },
    async (request) => {
      const { id } = request.params;
      const row = await prisma.modularization.findUnique({
        where: { id },
        include: { modules: { select: { id: true }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] } },
      });
      if (!row) throw notFound('modularization', id);
      return toModularizationView(row);
    },
  );

  app.get(
    '/modules/:id',
    {
      schema: { tags: ['modules'], summary: 'Get a module', params: IdParams, response: { 200: ModuleView, ...errors(400, 404) } },
    },
    async (request) => toModuleView(await requireModule(request.params.id)),
  );

  app.get(
    '/modules/:id/download',
    {
      schema: {
        tags: ['modules'],
        summary: "Download a module's artifact",
        params: IdParams,
        response: { 200: BinaryResponse, 304: { description: 'If-None-Match matched the ETag' }, ...errors(400, 404) },
      },
    },
    async (request, reply) => {
      const module = await requireModule(request.params.id);
      if (!module.artifactId) throw new HttpError(404, `module ${module.id} has no artifact`);
      return sendArtifact(prisma, module.artifactId, request, reply);
    },
  );
};

export default moduleRoutes;
