/** Modularizations and their modules, with module downloads. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { principalOf, type Principal } from '../auth/principal.js';
import { sendArtifact, type DownloadDeps } from '../download.js';
import { HttpError, notFound } from '../errors.js';
import { BAD_ID, DownloadHeaders, DownloadResponses, IdParams, EXAMPLE_ID, errors, json, notFoundMessage, ref } from '../schemas/common.js';
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
        operationId: 'getModularization',
        params: IdParams,
        response: { 200: json(ref(ModularizationView), 'The modularization'), ...errors({ 400: BAD_ID, 404: notFoundMessage('modularization') }) },
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
      schema: {
        tags: ['modules'],
        summary: 'Get a module',
        operationId: 'getModule',
        params: IdParams,
        response: { 200: json(ref(ModuleView), 'The module'), ...errors({ 400: BAD_ID, 404: notFoundMessage('module') }) },
      },
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
        description: 'A tar of `model.json`, `weights.bin` and `metadata.json`: see the README, "Using a downloaded module".',
        operationId: 'downloadModule',
        params: IdParams,
        headers: DownloadHeaders,
        response: {
          ...DownloadResponses,
          ...errors({
            400: BAD_ID,
            404: { unknown: notFoundMessage('module'), noArtifact: `module ${EXAMPLE_ID} has no artifact` },
            416: 'range bytes=5000000- is not satisfiable: the artifact has 48213 bytes',
          }),
        },
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
