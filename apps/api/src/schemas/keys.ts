/** API keys as the admin routes show them: never the secret, except once in the creation response. */
import Type, { type Static } from 'typebox';
import { MAX_NAME_LENGTH, SCOPES } from '../auth/api-keys.js';
import { DateTime, Nullable, Uuid, ref } from './common.js';

const Scopes = Type.Array(Type.Enum(SCOPES), {
  minItems: 1,
  uniqueItems: true,
  description: "`read`: the GET routes; `submit`: POST /jobs and DELETE /jobs/:id; `admin`: everything, every key's resources, and these routes.",
});

const KEY_ID = '0f5e2d1c-9b8a-4765-8433-2a1b0c9d8e7f';
const fields = {
  id: Uuid(),
  name: Type.String(),
  prefix: Type.String({ description: 'The first characters of the key, to tell keys apart; not a secret.' }),
  scopes: Scopes,
  createdAt: DateTime(),
  revokedAt: Nullable(DateTime()),
  lastUsedAt: Nullable(DateTime("Last authentication, to within the API's key-cache TTL (5 s).")),
};
const example = {
  id: KEY_ID,
  name: 'ci',
  prefix: 'mwt_Xq3vT9aL',
  scopes: ['read', 'submit'],
  createdAt: '2026-11-25T10:00:00.000Z',
  revokedAt: null,
  lastUsedAt: null,
};

export const ApiKeyView = Type.Object(fields, { $id: 'ApiKey', examples: [example] });
export type ApiKeyView = Static<typeof ApiKeyView>;

export const CreatedApiKey = Type.Object(
  { ...fields, key: Type.String({ description: 'The secret, for `Authorization: Bearer <key>`: shown in this response only.' }) },
  { $id: 'CreatedApiKey', examples: [{ ...example, key: 'mwt_Xq3vT9aL0cW8mRk2Jp5yHn7dBf4sGz1uVe6tYa9oQiE' }] },
);

export const ApiKeyList = Type.Object({ items: Type.Array(ref(ApiKeyView)) }, { $id: 'ApiKeyList', examples: [{ items: [example] }] });

export const CreateApiKeyBody = Type.Object(
  {
    // No control characters: a NUL cannot be stored in a PostgreSQL text column, the others garble lists and logs.
    name: Type.String({ minLength: 1, maxLength: MAX_NAME_LENGTH, pattern: '^[^\\x00-\\x1f\\x7f]+$', description: 'What the key is for (shown in lists).' }),
    scopes: Scopes,
  },
  { $id: 'ApiKeyRequest', additionalProperties: false, examples: [{ name: 'ci', scopes: ['read', 'submit'] }] },
);

/** Every component of this file, for app.addSchema. */
export const KEY_COMPONENTS = [ApiKeyView, CreatedApiKey, ApiKeyList, CreateApiKeyBody];
