/** Downloads of stored artifacts (models, module sets, modules) by artifact id. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { principalOf } from '../auth/principal.js';
import { sendArtifact, type DownloadDeps } from '../download.js';
import { BAD_ID, DownloadHeaders, DownloadResponses, IdParams, errors, notFoundMessage } from '../schemas/common.js';

const artifactRoutes: FastifyPluginAsyncTypebox<DownloadDeps> = async (app, deps) => {
  app.get(
    '/artifacts/:id/download',
    {
      config: { scope: 'read' },
      schema: {
        tags: ['artifacts'],
        summary: 'Download an artifact (model weights, module set, module)',
        operationId: 'downloadArtifact',
        params: IdParams,
        headers: DownloadHeaders,
        response: {
          ...DownloadResponses,
          ...errors({ 400: BAD_ID, 404: notFoundMessage('artifact'), 416: 'range bytes=5000000- is not satisfiable: the artifact has 48213 bytes' }),
        },
      },
    },
    async (request, reply) => {
      const artifact = await deps.db.artifacts.find(principalOf(request), request.params.id);
      return sendArtifact(deps, request.params.id, artifact, request, reply);
    },
  );
};

export default artifactRoutes;
