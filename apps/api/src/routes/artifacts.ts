/** Downloads of stored artifacts (models, module sets, modules) by artifact id. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { principalOf } from '../auth/principal.js';
import { sendArtifact, type DownloadDeps } from '../download.js';
import { DownloadResponses, IdParams, errors } from '../schemas/common.js';

const artifactRoutes: FastifyPluginAsyncTypebox<DownloadDeps> = async (app, deps) => {
  app.get(
    '/artifacts/:id/download',
    {
      config: { scope: 'read' },
      schema: {
        tags: ['artifacts'],
        summary: 'Download an artifact (model weights, module set, module)',
        params: IdParams,
        response: { ...DownloadResponses, ...errors(400, 404, 416) },
      },
    },
    async (request, reply) => {
      const artifact = await deps.db.artifacts.find(principalOf(request), request.params.id);
      return sendArtifact(deps, request.params.id, artifact, request, reply);
    },
  );
};

export default artifactRoutes;
