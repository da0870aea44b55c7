/** Downloads of stored artifacts (models, module sets, modules) by artifact id. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ownedThroughJob, principalOf } from '../auth/principal.js';
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
    async (request, reply) => sendArtifact(deps, request.params.id, ownedThroughJob(principalOf(request)), request, reply),
  );
};

export default artifactRoutes;
