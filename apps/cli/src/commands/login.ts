import { parseArgs } from 'node:util';
import { apiClient } from '../client.js';
import { saveLogin } from '../config.js';
import { CliError } from '../errors.js';

/** `mwt login --url U --key K`: checks the pair against the API, then stores it. */
export async function login(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { url: { type: 'string' }, key: { type: 'string' } } });
  const url = (values.url ?? process.env.MWT_URL)?.replace(/\/+$/, '');
  const key = values.key ?? process.env.MWT_KEY;
  if (!url || !key) throw new CliError('usage: mwt login --url <API URL> --key <API key> (or MWT_URL / MWT_KEY)', 2);
  // Any route behind the key proves both the URL and the key; a read key can list its jobs.
  await apiClient({ url, key }).json('GET', '/jobs?limit=1');
  const file = await saveLogin({ url, key });
  process.stderr.write(`logged in to ${url} (key ${key.slice(0, 12)}…), stored in ${file}\n`);
  return 0;
}
