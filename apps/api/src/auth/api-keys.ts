/**
 * API keys: create (the only moment the secret exists outside its holder), list, revoke, stored
 * through the apiKeys repository. The CLI, the admin routes and the tests all go through these functions.
 */
import { createHash, randomBytes } from 'node:crypto';
import { SCOPES, type ApiKey, type ApiKeyRecord, type Database, type Scope } from '@mwt/db';

export { SCOPES, type ApiKeyRecord, type Scope } from '@mwt/db';
export const MAX_NAME_LENGTH = 100;

const SECRET_PREFIX = 'mwt_';
/** 32 random bytes, base64url: 43 characters, 256 bits. */
const SECRET_PATTERN = /^mwt_[A-Za-z0-9_-]{43}$/;
/** `mwt_` and 8 characters: enough to tell keys apart in a list, far too few to guess the rest. */
const DISPLAY_PREFIX_LENGTH = SECRET_PREFIX.length + 8;

export const isWellFormedSecret = (secret: string) => SECRET_PATTERN.test(secret);

/**
 * A fast hash is enough: the secret is 256 random bits, so there is no dictionary to try, and
 * looking keys up by hash keeps the comparison out of our (timing-observable) code.
 */
export const hashSecret = (secret: string) => createHash('sha256').update(secret).digest('hex');

export async function createApiKey(db: Database, input: { name: string; scopes: readonly Scope[] }): Promise<{ key: ApiKeyRecord; secret: string }> {
  const secret = `${SECRET_PREFIX}${randomBytes(32).toString('base64url')}`;
  const key = await db.apiKeys.create({ name: input.name, prefix: secret.slice(0, DISPLAY_PREFIX_LENGTH), secretHash: hashSecret(secret), scopes: input.scopes });
  return { key, secret };
}

export function listApiKeys(db: Database): Promise<ApiKeyRecord[]> {
  return db.apiKeys.list();
}

/** Marks the key revoked (once: revoking again keeps the first date); null when there is no such key. */
export function revokeApiKey(db: Database, id: string): Promise<ApiKey | null> {
  return db.apiKeys.revoke(id);
}

/** Parses `read,submit` (the CLI's --scopes); throws naming the unknown scope. */
export function parseScopes(list: string): Scope[] {
  const scopes = list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (scopes.length === 0) throw new Error(`no scopes given; choose from ${SCOPES.join(', ')}`);
  for (const scope of scopes) {
    if (!(SCOPES as readonly string[]).includes(scope)) throw new Error(`unknown scope "${scope}"; choose from ${SCOPES.join(', ')}`);
  }
  return scopes as Scope[];
}
