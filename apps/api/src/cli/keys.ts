/**
 * API keys from the command line, against DATABASE_URL like the rest of the service:
 *   npm run keys -- create --name ci --scopes read,submit   prints the key, once
 *   npm run keys -- list
 *   npm run keys -- revoke <key id>
 * The first admin key can only come from here: `npm run keys -- create --name admin --scopes admin`.
 * `create` writes the key alone on stdout (the rest goes to stderr), so
 * `MWT_KEY=$(npm run --silent keys -- create ...)` captures just the key.
 */
import { parseArgs } from 'node:util';
import { createDatabase, type Database } from '@mwt/db';
import { readConfig } from '@mwt/shared';
import { MAX_NAME_LENGTH, createApiKey, listApiKeys, parseScopes, revokeApiKey } from '../auth/api-keys.js';

const USAGE = ['usage: npm run keys -- create --name <name> --scopes <read,submit,admin>', '       npm run keys -- list', '       npm run keys -- revoke <key id>'].join('\n');
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

class UsageError extends Error {}

async function create(db: Database, name: string | undefined, scopes: string | undefined) {
  if (!name || name.length > MAX_NAME_LENGTH) throw new UsageError(`--name: 1 to ${MAX_NAME_LENGTH} characters`);
  let parsed;
  try {
    parsed = parseScopes(scopes ?? '');
  } catch (err) {
    throw new UsageError(`--scopes: ${(err as Error).message}`);
  }
  const { key, secret } = await createApiKey(db, { name, scopes: parsed });
  console.log(secret);
  console.error(`created API key ${key.id} "${key.name}" (${key.scopes.join(', ')}); the key above is not shown again: store it now`);
}

async function list(db: Database) {
  const rows = (await listApiKeys(db)).map((k) => [
    k.id,
    k.name,
    k.prefix,
    k.scopes.join(','),
    k.createdAt.toISOString(),
    k.lastUsedAt?.toISOString() ?? '-',
    k.revokedAt?.toISOString() ?? '-',
  ]);
  const table = [['id', 'name', 'prefix', 'scopes', 'created', 'last used', 'revoked'], ...rows];
  const widths = table[0].map((_, i) => Math.max(...table.map((row) => row[i].length)));
  for (const row of table)
    console.log(
      row
        .map((cell, i) => cell.padEnd(widths[i]))
        .join('  ')
        .trimEnd(),
    );
}

async function revoke(db: Database, id: string | undefined) {
  if (!id || !UUID.test(id)) throw new UsageError('revoke needs the key id (a UUID; see `list`)');
  const key = await revokeApiKey(db, id);
  if (!key?.revokedAt) throw new Error(`no API key ${id}`);
  console.log(`revoked API key ${key.id} "${key.name}" at ${key.revokedAt.toISOString()}; API processes stop accepting it within 5 s, and end its open event streams within 6 s`);
}

function parseCommandLine() {
  try {
    return parseArgs({ allowPositionals: true, options: { name: { type: 'string' }, scopes: { type: 'string' } } });
  } catch (err) {
    throw new UsageError((err as Error).message); // an unknown option
  }
}

const config = readConfig();
const db = createDatabase(config.databaseUrl, { queryTimeoutMs: config.dbQueryTimeoutMs });
try {
  const { positionals, values } = parseCommandLine();
  const [command, ...rest] = positionals;
  if (command === 'create' && rest.length === 0) await create(db, values.name, values.scopes);
  else if (command === 'list' && rest.length === 0) await list(db);
  else if (command === 'revoke' && rest.length <= 1) await revoke(db, rest[0]);
  else throw new UsageError(command ? `unknown command: ${positionals.join(' ')}` : 'no command');
} catch (err) {
  const usage = err instanceof UsageError;
  console.error(`keys: ${(err as Error).message}${usage ? `\n${USAGE}` : ''}`);
  process.exitCode = usage ? 2 : 1;
} finally {
  await db.close();
}
