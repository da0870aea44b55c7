/** GET /models: every model of the zoo, with its masked layers and kernels, parameters and FLOPs on a dataset. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { describeModels } from '@mwt/catalog';
import { ModelList, ModelsQuery } from '../schemas/catalog.js';
import { RATE_LIMITED, errors, json, ref } from '../schemas/common.js';

const modelRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/models',
    {
      schema: {
        tags: ['catalog'],
        summary: 'Models: kind, masked layers and kernels, parameters and FLOPs, standard baseline',
        operationId: 'listModels',
        security: [],
        querystring: ModelsQuery,
        response: {
          200: json(ref(ModelList), 'Every model, with its costs on the dataset asked for'),
          ...errors({ 400: 'querystring/dataset must be one of: mnist, mnist-full, fashion-mnist, kmnist, emnist-digits, cifar10, svhn', 429: RATE_LIMITED }),
        },
      },
    },
    // Pure arithmetic over the architecture descriptions: no tfjs behind it.
    async (request) => ({ models: describeModels(request.query.dataset ?? 'cifar10') }),
  );
};

export default modelRoutes;
