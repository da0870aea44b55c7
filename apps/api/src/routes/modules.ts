/** Modularizations and their modules, with module downloads. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { principalOf, type Principal } from '../auth/principal.js';
import { sendArtifact, type DownloadDeps } from '../download.js';
import { HttpError, notFound } from '../errors.js';
import { DownloadResponses, IdParams, errors } from '../schemas/common.js';
import { ModularizationView, ModuleView } from '../schemas/resources.js';
import { toModularizationView, toModuleView } from '../views.js';

const moduleRoutes: FastifyPluginAsyncTypebox<DownloadDeps> = async (app, deps) => {
  const { db } = deps;
  const requireModule = async (id: string, principal: Principal) => {
    const module = await db.modules.find(principal, id);
    if (!module) throw notFound('module', id);
    return module;
  };

  app.get(
    '/modularizations/:id',
    {
      config: { scope: 'read' },
      schema: {
        tags: ['modules'],
        summary: 'Get a modularization (threshold, KRR, cohesion, coupling, layers) and its module ids',
        params: IdParams,
        response: { 200: ModularizationView, ...errors(400, 404) },
      },
    },
    async (request) => {
      const { id } = request.params;
      // Reused modules of other keys' jobs (an admin's) may point here too: not the caller's to see.
      const row = await db.modularizations.findWithModuleIds(principalOf(request), id);
      if (!row) throw notFound('modularization', id);
      return toModularizationView(row);
    },
  );

  app.get(
    '/modules/:id',
    {
      config: { scope: 'read' },
      schema: { tags: ['modules'], summary: 'Get a module', params: IdParams, response: { 200: ModuleView, ...errors(400, 404) } },
    },
    async (request) => toModuleView(await requireModule(request.params.id, principalOf(request))),
  );

  app.get(
    '/modules/:id/download',
    {
      config: { scope: 'read' },
      schema: {
        tags: ['modules'],
        summary: "Download a module's artifact",
        params: IdParams,
        response: { ...DownloadResponses, ...errors(400, 404, 416) },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const module = await requireModule(request.params.id, principal);
      if (!module.artifactId) throw new HttpError(404, `module ${module.id} has no artifact`);
      // The module is the caller's, and so is its file.
      const artifact = await db.artifacts.findOfModule(principal, module.id, module.artifactId);
      return sendArtifact(deps, module.artifactId, artifact, request, reply);
    },
  );
};

export default moduleRoutes;
