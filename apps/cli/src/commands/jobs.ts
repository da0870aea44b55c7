import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { apiClient, type ApiClient } from '../client.js';
import { loadLogin } from '../config.js';
import { CliError } from '../errors.js';
import { table } from '../table.js';
import { watchJob } from '../watch.js';

interface JobView {
  id: string;
  type: string;
  state: string;
  progress: number;
  phase: string | null;
  createdAt: string;
  durationMs: number | null;
  error: string | null;
}

const client = async (): Promise<ApiClient> => apiClient(await loadLogin());

/** `--target-classes` -> targetClasses */
const camel = (flag: string) => flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/** A flag's value: JSON when it parses (2, 0.5, true, [3,8]), a comma list of such values, else the string. */
function paramValue(text: string): unknown {
  const json = (s: string): unknown => {
    try {
      return JSON.parse(s);
    } catch {
      return s;
    }
  };
  return text.includes(',') && !text.trim().startsWith('[') ? text.split(',').map((s) => json(s.trim())) : json(text);
}

interface SubmitArgs {
  body: { type?: string; params?: Record<string, unknown> };
  follow: boolean;
  idempotencyKey?: string;
  file?: string;
}

/** Job params are open-ended (`--epochs 3 --train-limit 2000`), so this is a small loop rather than parseArgs. */
function parseSubmitArgs(args: string[]): SubmitArgs {
  const parsed: SubmitArgs = { body: {}, follow: false };
  const params: Record<string, unknown> = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (!arg.startsWith('--')) {
      if (parsed.body.type) throw new CliError(`unexpected argument ${arg}`, 2);
      parsed.body.type = arg;
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    if (name === 'follow') {
      parsed.follow = true;
      continue;
    }
    const value = eq >= 0 ? arg.slice(eq + 1) : args[++i];
    if (value === undefined) throw new CliError(`--${name} needs a value`, 2);
    if (name === 'file') parsed.file = value;
    else if (name === 'idempotency-key') parsed.idempotencyKey = value;
    else params[camel(name)] = paramValue(value);
  }
  if (Object.keys(params).length > 0) parsed.body.params = params;
  return parsed;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** `mwt submit`: prints the new job's id on stdout (for scripts); with --follow, watches it to its end. */
export async function submit(args: string[]): Promise<number> {
  const parsed = parseSubmitArgs(args);
  let body = parsed.body;
  if (parsed.file) {
    const text = parsed.file === '-' ? await readStdin() : await readFile(parsed.file, 'utf8');
    const fromFile = JSON.parse(text) as SubmitArgs['body'];
    // Flags given next to the file override its fields.
    body = { type: body.type ?? fromFile.type, params: { ...fromFile.params, ...body.params } };
    if (Object.keys(body.params ?? {}).length === 0) delete body.params;
  }
  if (!body.type) throw new CliError('usage: mwt submit <type> [--<param> <value> ...] | mwt submit --file <job.json>', 2);
  const api = await client();
  const headers: Record<string, string> = parsed.idempotencyKey ? { 'idempotency-key': parsed.idempotencyKey } : {};
  const job = await api.json<JobView>('POST', '/jobs', body, headers);
  process.stdout.write(`${job.id}\n`);
  process.stderr.write(`submitted ${job.type} job ${job.id} (${job.state})\n`);
  return parsed.follow ? watchJob(api, job.id) : 0;
}

export async function watch(args: string[]): Promise<number> {
  const { positionals } = parseArgs({ args, allowPositionals: true });
  if (positionals.length !== 1) throw new CliError('usage: mwt watch <job id>', 2);
  return watchJob(await client(), positionals[0]);
}

export async function jobs(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { state: { type: 'string' }, type: { type: 'string' }, limit: { type: 'string' }, json: { type: 'boolean' } },
  });
  const query = new URLSearchParams();
  for (const name of ['state', 'type', 'limit'] as const) if (values[name]) query.set(name, values[name]);
  const { items } = await (await client()).json<{ items: JobView[] }>('GET', `/jobs${query.size ? `?${query}` : ''}`);
  if (values.json) {
    process.stdout.write(`${JSON.stringify(items, null, 2)}\n`);
    return 0;
  }
  const rows = items.map((j) => [j.id, j.type, j.state, `${j.progress}%`, j.phase, j.createdAt, j.durationMs === null ? null : `${(j.durationMs / 1000).toFixed(1)}s`, j.error]);
  process.stdout.write(`${table(['ID', 'TYPE', 'STATE', 'PROGRESS', 'PHASE', 'CREATED', 'DURATION', 'ERROR'], rows)}\n`);
  return 0;
}

export async function cancel(args: string[]): Promise<number> {
  const { positionals } = parseArgs({ args, allowPositionals: true });
  if (positionals.length !== 1) throw new CliError('usage: mwt cancel <job id>', 2);
  const job = await (await client()).json<JobView & { cancelRequested: boolean }>('DELETE', `/jobs/${encodeURIComponent(positionals[0])}`);
  process.stdout.write(job.state === 'cancelled' ? `job ${job.id} cancelled\n` : `job ${job.id}: cancel requested; it stops at its next batch\n`);
  return 0;
}
