/**
 * Process configuration shared by the API and the workers. Every setting comes from one
 * environment variable; CONFIG_VARS is the single list the README and the docker-compose
 * test read, so a new variable cannot be documented in one place and forgotten in another.
 */
import { totalmem } from 'node:os';

export interface Config {
  port: number;
  host: string;
  databaseUrl: string;
  dbQueryTimeoutMs: number;
  redisUrl: string;
  queueName: string;
  queuePrefix: string;
  workerConcurrency: number;
  logLevel: LogLevel;
  lockDurationMs: number;
  stalledIntervalMs: number;
  maxStalledCount: number;
  reconcileIntervalMs: number;
  auth: AuthMode;
  rateLimit: number;
  artifactCacheMb: number;
  requestTimeoutMs: number;
  workerMemoryMb: number;
}

export const AUTH_MODES = ['enabled', 'disabled'] as const;
export type AuthMode = (typeof AUTH_MODES)[number];

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface ConfigVar {
  name: string;
  key: keyof Config;
  default: string;
  description: string;
}

export const CONFIG_VARS: readonly ConfigVar[] = [
  { name: 'PORT', key: 'port', default: '3000', description: 'TCP port the API listens on (0..65535).' },
  { name: 'HOST', key: 'host', default: '0.0.0.0', description: 'Interface the API binds to.' },
  {
    name: 'DATABASE_URL',
    key: 'databaseUrl',
    default: 'postgresql://postgres@127.0.0.1:5432/mwt',
    description: 'PostgreSQL connection URL (jobs, runs, metrics, modules, artifacts).',
  },
  {
    name: 'MWT_DB_QUERY_TIMEOUT_MS',
    key: 'dbQueryTimeoutMs',
    default: '30000',
    description:
      'Longest a PostgreSQL query may wait for its answer (ms) before it fails and its connection is closed: a connection that went silent (dead host, dropped NAT entry, frozen server) then costs a request a 503 and a job a wait, not a hang. Keep it above the slowest legitimate query (1000..3600000).',
  },
  { name: 'REDIS_URL', key: 'redisUrl', default: 'redis://127.0.0.1:6379', description: 'Redis URL (BullMQ queue, cancel channel).' },
  { name: 'MWT_QUEUE', key: 'queueName', default: 'mwt-jobs', description: 'BullMQ queue name shared by API and workers.' },
  { name: 'MWT_QUEUE_PREFIX', key: 'queuePrefix', default: 'bull', description: 'BullMQ key prefix in Redis (isolates deployments and test runs).' },
  { name: 'WORKER_CONCURRENCY', key: 'workerConcurrency', default: '1', description: 'Jobs one worker process runs at once (1..64).' },
  { name: 'LOG_LEVEL', key: 'logLevel', default: 'info', description: `Pino log level: ${LOG_LEVELS.join(', ')}.` },
  {
    name: 'MWT_LOCK_DURATION_MS',
    key: 'lockDurationMs',
    default: '60000',
    description: 'Job lock of a worker (ms): a killed or stuck worker loses its job to another one after this long (1000..3600000).',
  },
  {
    name: 'MWT_STALLED_INTERVAL_MS',
    key: 'stalledIntervalMs',
    default: '30000',
    description: 'How often (ms) workers look for jobs whose lock expired and put them back in the queue (500..3600000).',
  },
  {
    name: 'MWT_MAX_STALLED_COUNT',
    key: 'maxStalledCount',
    default: '2',
    description:
      "Times a job may lose its worker (killed, lost host, preempted) and be resumed by another; once more and it fails with BullMQ's reason, so that a job that kills every worker it meets does not go round for ever (0..100).",
  },
  {
    name: 'MWT_RECONCILE_INTERVAL_MS',
    key: 'reconcileIntervalMs',
    default: '5000',
    description: 'How often (ms) workers re-enqueue jobs PostgreSQL holds as queued, or running without heartbeat, that Redis lost (500..3600000).',
  },
  {
    name: 'MWT_AUTH',
    key: 'auth',
    default: 'enabled',
    description: 'API keys required (`enabled`), or `disabled`: every request is admin; for local demos only, the API warns at start.',
  },
  {
    name: 'MWT_RATE_LIMIT',
    key: 'rateLimit',
    default: '600',
    description: 'Requests per minute per API key (per client IP without one), per API process; 429 beyond (1..10000000).',
  },
  {
    name: 'MWT_ARTIFACT_CACHE_MB',
    key: 'artifactCacheMb',
    default: '256',
    description: 'Memory (MB) each API process keeps hot artifacts in; an artifact over a quarter of it is always streamed from PostgreSQL; 0 turns the cache off (0..65536).',
  },
  {
    name: 'MWT_REQUEST_TIMEOUT_MS',
    key: 'requestTimeoutMs',
    default: '30000',
    description:
      'Longest (ms) the API waits for a whole request, headers and body, before it answers 408 and closes the connection: a trickled body cannot hold a socket (1000..3600000).',
  },
  {
    name: 'MWT_WORKER_MEMORY_MB',
    key: 'workerMemoryMb',
    default: 'auto',
    description:
      "Memory (MB) one training job may use: the API refuses (400) a job whose estimated peak is above it, and a worker fails a job (once, no retry) whose resident memory passes it; `auto` is 75% of the host's total memory (64..16777216).",
  },
];

type Env = Record<string, string | undefined>;

function intVar(name: string, raw: string, min: number, max: number): number {
  // Number('') is 0 and Number('1e3') is 1000: insist on plain digits so typos fail loudly.
  const value = /^\d+$/.test(raw.trim()) ? Number(raw) : Number.NaN;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${name} must be an integer in ${min}..${max}, got "${raw}"`);
  }
  return value;
}

function urlVar(name: string, raw: string, protocols: string[]): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(`${name} is not a valid URL: "${raw}"`);
  }
  if (!protocols.includes(url.protocol)) {
    throw new Error(`${name} must use ${protocols.join(' or ')}, got "${url.protocol}"`);
  }
  return raw;
}

function oneOf<T extends string>(name: string, raw: string, values: readonly T[]): T {
  if (!(values as readonly string[]).includes(raw)) throw new Error(`${name} must be one of ${values.join(', ')}, got "${raw}"`);
  return raw as T;
}

function nonEmpty(name: string, raw: string): string {
  if (raw.trim() === '') throw new Error(`${name} must not be empty`);
  return raw;
}

function queueName(name: string, raw: string): string {
  // BullMQ builds Redis keys as prefix:name:..., so a ':' in the name would corrupt them.
  if (raw.includes(':')) throw new Error(`${name} must not contain ':', got "${raw}"`);
  return nonEmpty(name, raw);
}

/** `auto`: 75% of the host's memory, leaving the rest to the OS, PostgreSQL and Redis beside a worker. */
function memoryMbVar(name: string, raw: string): number {
  if (raw.trim() === 'auto') return Math.floor((totalmem() * 0.75) / (1024 * 1024));
  return intVar(name, raw, 64, 16_777_216);
}

export function readConfig(env: Env = process.env): Config {
  // An empty variable means "unset" (docker-compose writes `VAR=` for blanks).
  const get = (key: keyof Config): [string, string] => {
    const spec = CONFIG_VARS.find((v) => v.key === key);
    if (!spec) throw new Error(`no config variable for ${key}`);
    const raw = env[spec.name];
    return [spec.name, raw === undefined || raw === '' ? spec.default : raw];
  };
  return {
    port: intVar(...get('port'), 0, 65535),
    host: nonEmpty(...get('host')),
    databaseUrl: urlVar(...get('databaseUrl'), ['postgresql:', 'postgres:']),
    dbQueryTimeoutMs: intVar(...get('dbQueryTimeoutMs'), 1_000, 3_600_000),
    redisUrl: urlVar(...get('redisUrl'), ['redis:', 'rediss:']),
    queueName: queueName(...get('queueName')),
    queuePrefix: nonEmpty(...get('queuePrefix')),
    workerConcurrency: intVar(...get('workerConcurrency'), 1, 64),
    lockDurationMs: intVar(...get('lockDurationMs'), 1_000, 3_600_000),
    stalledIntervalMs: intVar(...get('stalledIntervalMs'), 500, 3_600_000),
    maxStalledCount: intVar(...get('maxStalledCount'), 0, 100),
    reconcileIntervalMs: intVar(...get('reconcileIntervalMs'), 500, 3_600_000),
    logLevel: oneOf(...get('logLevel'), LOG_LEVELS),
    auth: oneOf(...get('auth'), AUTH_MODES),
    rateLimit: intVar(...get('rateLimit'), 1, 10_000_000),
    artifactCacheMb: intVar(...get('artifactCacheMb'), 0, 65_536),
    requestTimeoutMs: intVar(...get('requestTimeoutMs'), 1_000, 3_600_000),
    workerMemoryMb: memoryMbVar(...get('workerMemoryMb')),
  };
}
