/** GET /models: every model of the zoo, with its masked layers and kernels, parameters and FLOPs on a dataset. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { describeModels } from '@mwt/catalog';
import { ModelInfo, ModelList, ModelsQuery } from '../schemas/catalog.js';
import { errors } from '../schemas/common.js';

const modelRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.addSchema(ModelInfo);
  app.addSchema(ModelList);
  app.get(
    '/models',
    {
      schema: {
        tags: ['catalog'],
        summary: 'Models: kind, masked layers and kernels, parameters and FLOPs, standard baseline',
        querystring: ModelsQuery,
        response: { 200: ModelList, ...errors(400) },
      },
    },
    // Pure arithmetic over the architecture descriptions: no tfjs behind it.
    async (request) => ({ models: describeModels(request.query.dataset ?? 'cifar10') }),
  );
};

export default modelRoutes;
