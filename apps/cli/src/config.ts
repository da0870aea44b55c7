/**
 * Where the CLI finds the API: MWT_URL / MWT_KEY when set, else what `mwt login` stored in
 * $XDG_CONFIG_HOME/mwt/config.json (~/.config/mwt by default). The file holds a secret, so it is
 * written with mode 0600 inside a 0700 folder.
 */
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { CliError } from './errors.js';

export interface Login {
  url: string;
  key: string;
}

export function configFile(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME || join(homedir(), '.config');
  return join(base, 'mwt', 'config.json');
}

async function readStored(file: string): Promise<Partial<Login>> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as Partial<Login>;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new CliError(`cannot read ${file}: ${(error as Error).message}`);
  }
}

/** The URL and key to use; the environment wins over the stored login, field by field. */
export async function loadLogin(env: NodeJS.ProcessEnv = process.env): Promise<Login> {
  const stored = await readStored(configFile(env));
  const url = env.MWT_URL || stored.url;
  const key = env.MWT_KEY || stored.key;
  if (!url || !key) throw new CliError('not logged in: run `mwt login --url <API URL> --key <API key>` (or set MWT_URL and MWT_KEY)');
  return { url: url.replace(/\/+$/, ''), key };
}

export async function saveLogin(login: Login, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const file = configFile(env);
  await mkdir(join(file, '..'), { recursive: true, mode: 0o700 });
  await writeFile(file, `${JSON.stringify(login, null, 2)}\n`, { mode: 0o600 });
  // writeFile's mode applies only when it creates the file: tighten an older one too.
  await chmod(file, 0o600);
  return file;
}
