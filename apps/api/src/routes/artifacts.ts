/** Downloads of stored artifacts (models, module sets, modules) by artifact id. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AppDeps } from '../deps.js';
import { sendArtifact } from '../download.js';
import { BinaryResponse, IdParams, errors } from '../schemas/common.js';

const artifactRoutes: FastifyPluginAsyncTypebox<AppDeps> = async (app, { prisma }) => {
  app.get(
    '/artifacts/:id/download',
    {
      schema: {
        tags: ['artifacts'],
        summary: 'Download an artifact (model weights, module set, module)',
        params: IdParams,
        response: { 200: BinaryResponse, 304: { description: 'If-None-Match matched the ETag' }, ...errors(400, 404) },
      },
    },
    async (request, reply) => sendArtifact(prisma, request.params.id, request, reply),
  );
};

export default artifactRoutes;
