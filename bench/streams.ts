/**
 * What idle event streams cost the API: 1,000 clients each follow a queued job (GET /jobs/:id/events)
 * that does not move, against a real API process. Measured over a window once every stream has its
 * first event: the API process's CPU (from /proc, % of one core), its resident memory (and the growth
 * over the same process before the streams opened) and PostgreSQL transactions per second on the
 * bench database (pg_stat_database.xact_commit: every Prisma query outside a transaction is one).
 * Everything it creates is deleted afterwards. Alone: `npx tsx bench/streams.ts [--streams 1000]`.
 */
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { Agent, request, type ClientRequest } from 'node:http';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { createDatabase, type PrismaClient } from '@mwt/db';
import { readConfig } from '@mwt/shared';
import { createApiKey } from '../apps/api/src/auth/api-keys.js';
import { freePort, startApi } from './api-process.js';
import { CLOCK_TICK_MS, statFields } from './proc-stat.js';
import { formatTable, type BenchRow } from './table.js';

const WINDOW_S = 15;
/**
 * Before the window: every stream's first event is out, the process has settled, and PostgreSQL's
 * backends have flushed the statistics of the queries that opened the streams (an idle backend
 * flushes within 10 s).
 */
const SETTLE_MS = 12_000;
const OPEN_BATCH = 50;

/** CPU seconds (user + system) the process has used so far. */
function cpuSeconds(pid: number): number {
  const fields = statFields(pid);
  if (!fields) throw new Error(`no /proc/${pid}/stat`);
  return ((Number(fields[11]) + Number(fields[12])) * CLOCK_TICK_MS) / 1000; // utime, stime (fields 14, 15)
}

function rssMegabytes(pid: number): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb) / 1024;
}

async function committedTransactions(prisma: PrismaClient): Promise<number> {
  // A busy backend flushes its counts about once a second: over a 15 s window that blurs little.
  const rows = await prisma.$queryRaw<{ xact_commit: bigint }[]>`SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()`;
  return Number(rows[0].xact_commit);
}

/** Opens a stream and resolves once its first event has arrived. */
function openStream(url: string, agent: Agent, authorization: string, opened: ClientRequest[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent, headers: { authorization, accept: 'text/event-stream' } }, (res) => {
      if (res.statusCode !== 200) {
        reject(new Error(`${url}: ${res.statusCode}`));
        return;
      }
      res.once('data', () => resolve());
      res.on('error', () => undefined); // ended by us at the end
    });
    req.on('error', reject).end();
    opened.push(req);
  });
}

export async function benchStreams(streams = 1_000): Promise<BenchRow[]> {
  const config = readConfig();
  const db = createDatabase(config.databaseUrl, { queryTimeoutMs: config.dbQueryTimeoutMs });
  const { prisma } = db;
  const { key, secret } = await createApiKey(db, { name: 'bench streams', scopes: ['read'] });
  const ids = Array.from({ length: streams }, () => randomUUID());
  await prisma.job.createMany({ data: ids.map((id) => ({ id, type: 'train_standard', payload: {}, ownerKeyId: key.id })) });
  const port = await freePort();
  const api = await startApi(
    { PORT: String(port), HOST: '127.0.0.1', MWT_QUEUE_PREFIX: `mwt-bench-${randomUUID().slice(0, 8)}`, MWT_RATE_LIMIT: '10000000', LOG_LEVEL: 'warn' },
    60_000,
  );
  const pid = api.pid!;
  const agent = new Agent({ keepAlive: true, maxSockets: Infinity });
  const requests: ClientRequest[] = [];
  try {
    const idleRss = rssMegabytes(pid);
    const authorization = `Bearer ${secret}`;
    for (let i = 0; i < ids.length; i += OPEN_BATCH) {
      await Promise.all(ids.slice(i, i + OPEN_BATCH).map((id) => openStream(`http://127.0.0.1:${port}/jobs/${id}/events`, agent, authorization, requests)));
    }
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    const cpuBefore = cpuSeconds(pid);
    const txBefore = await committedTransactions(prisma);
    const started = performance.now();
    await new Promise((resolve) => setTimeout(resolve, WINDOW_S * 1000));
    const elapsedS = (performance.now() - started) / 1000;
    const cpuPercent = ((cpuSeconds(pid) - cpuBefore) / elapsedS) * 100;
    const txPerSecond = ((await committedTransactions(prisma)) - txBefore - 1) / elapsedS; // less our own snapshot
    const rss = rssMegabytes(pid);
    const open = requests.filter((r) => !r.destroyed && r.socket !== null && !r.socket.destroyed).length;
    return [
      {
        section: 'service',
        case: `${streams} idle event streams (${WINDOW_S} s)`,
        backend: 'http',
        rate: txPerSecond,
        unit: 'PG tx',
        note: `API CPU ${cpuPercent.toFixed(1)}% of a core, RSS ${rss.toFixed(0)} MB (${(rss - idleRss).toFixed(0)} MB over idle); ${open} streams open`,
      },
    ];
  } finally {
    for (const r of requests) r.destroy();
    agent.destroy();
    api.kill('SIGTERM');
    await once(api, 'exit');
    await prisma.job.deleteMany({ where: { id: { in: ids } } });
    await prisma.apiKey.delete({ where: { id: key.id } });
    await db.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({ options: { streams: { type: 'string', default: '1000' } } });
  console.log(formatTable(await benchStreams(Number(values.streams))));
}
