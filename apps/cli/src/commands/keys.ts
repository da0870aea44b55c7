import { parseArgs } from 'node:util';
import { apiClient } from '../client.js';
import { loadLogin } from '../config.js';
import { CliError } from '../errors.js';
import { table } from '../table.js';

interface ApiKey {
  id: string;
  name: string;
  prefix: string;
  scopes: string[];
  createdAt: string;
  revokedAt: string | null;
  lastUsedAt: string | null;
}

const USAGE = 'usage: mwt keys list [--json] | mwt keys create --name <name> --scopes <read,submit,admin> | mwt keys revoke <key id>';

/** `mwt keys …` over HTTP (POST/GET/DELETE /keys): needs an admin key. */
export async function keys(args: string[]): Promise<number> {
  const [action, ...rest] = args;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: { name: { type: 'string' }, scopes: { type: 'string' }, json: { type: 'boolean' } },
  });
  const api = apiClient(await loadLogin());
  if (action === 'list' && positionals.length === 0) {
    const { items } = await api.json<{ items: ApiKey[] }>('GET', '/keys');
    if (values.json) process.stdout.write(`${JSON.stringify(items, null, 2)}\n`);
    else {
      const rows = items.map((k) => [k.id, k.name, k.prefix, k.scopes.join(','), k.createdAt, k.lastUsedAt, k.revokedAt]);
      process.stdout.write(`${table(['ID', 'NAME', 'PREFIX', 'SCOPES', 'CREATED', 'LAST USED', 'REVOKED'], rows)}\n`);
    }
    return 0;
  }
  if (action === 'create' && values.name && values.scopes && positionals.length === 0) {
    const created = await api.json<ApiKey & { key: string }>('POST', '/keys', { name: values.name, scopes: values.scopes.split(',') });
    // Only the secret on stdout, as `npm run keys -- create` does: `export MWT_KEY=$(mwt keys create ...)`.
    process.stdout.write(`${created.key}\n`);
    process.stderr.write(`created key ${created.id} (${created.name}: ${created.scopes.join(',')}); the secret above is shown once\n`);
    return 0;
  }
  if (action === 'revoke' && positionals.length === 1) {
    const revoked = await api.json<ApiKey>('DELETE', `/keys/${encodeURIComponent(positionals[0])}`);
    process.stdout.write(`key ${revoked.id} (${revoked.name}) revoked at ${revoked.revokedAt}\n`);
    return 0;
  }
  throw new CliError(USAGE, 2);
}
