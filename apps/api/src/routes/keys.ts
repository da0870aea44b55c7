/** Admin-only key management: create (the secret is returned once), list, revoke. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { createApiKey, listApiKeys, revokeApiKey } from '../auth/api-keys.js';
import type { KeyCache } from '../auth/key-cache.js';
import type { AppDeps } from '../deps.js';
import { notFound } from '../errors.js';
import { BAD_ID, HEADERS, IdParams, errors, json, notFoundMessage, ref } from '../schemas/common.js';
import { ApiKeyList, ApiKeyView, CreateApiKeyBody, CreatedApiKey } from '../schemas/keys.js';
import { toApiKeyView } from '../views.js';

export interface KeyRouteOptions extends AppDeps {
  /** Revocation through this process drops the key from its cache at once. */
  keyCache: KeyCache;
}

const keyRoutes: FastifyPluginAsyncTypebox<KeyRouteOptions> = async (app, { db, keyCache }) => {
  app.post(
    '/keys',
    {
      config: { scope: 'admin' },
      schema: {
        tags: ['keys'],
        summary: 'Create an API key',
        description: 'The response carries the secret (`key`); it is stored hashed and never shown again.',
        operationId: 'createApiKey',
        body: ref(CreateApiKeyBody),
        response: {
          201: json(ref(CreatedApiKey), 'The key, with its secret (this once)', { headers: HEADERS.noStore }),
          ...errors({
            400: { scope: 'body/scopes/0 must be one of: read, submit, admin', name: 'body/name is required' },
            413: 'Request body is too large',
            415: 'Unsupported Media Type',
          }),
        },
      },
    },
    async (request, reply) => {
      const { key, secret } = await createApiKey(db, request.body);
      return reply
        .code(201)
        .header('cache-control', 'no-store')
        .send({ ...toApiKeyView(key), key: secret });
    },
  );

  app.get(
    '/keys',
    {
      config: { scope: 'admin' },
      schema: { tags: ['keys'], summary: 'List API keys (revoked ones too)', operationId: 'listApiKeys', response: { 200: json(ref(ApiKeyList), 'Every key, newest first') } },
    },
    async () => ({ items: (await listApiKeys(db)).map(toApiKeyView) }),
  );

  app.delete(
    '/keys/:id',
    {
      config: { scope: 'admin' },
      schema: {
        tags: ['keys'],
        summary: 'Revoke an API key',
        description:
          "Takes effect at once in this API process, and in others within their key-cache TTL (5 s); the key's open event streams end with an `error` event at their next poll (1 s) after that. Revoking twice keeps the first date.",
        operationId: 'revokeApiKey',
        params: IdParams,
        response: { 200: json(ref(ApiKeyView), 'The key, revoked'), ...errors({ 400: BAD_ID, 404: notFoundMessage('API key') }) },
      },
    },
    async (request) => {
      const revoked = await revokeApiKey(db, request.params.id);
      if (!revoked) throw notFound('API key', request.params.id);
      keyCache.forget(revoked.secretHash);
      return toApiKeyView(revoked);
    },
  );
};

export default keyRoutes;
