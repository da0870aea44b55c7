/**
 * A worker started in this process with startWorker(deps), as main.ts starts one: it takes a job
 * from the queue, logs it with the job's id and its own name on every line, and close() pauses the
 * running job mid-epoch, puts it back in the queue without spending an attempt, and closes every
 * connection the worker opened (the deps stay open for whoever made them).
 * (The process around it, signals and exit codes, is tested with real processes in crash.test.ts
 * and signals.test.ts.)
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { checkpointPosition, initBackend } from '@mwt/core';
import { createDatabase, type Database, type PrismaClient } from '@mwt/db';
import { createJobQueue, queueEntry, readConfig, type JobQueue } from '@mwt/shared';
import { startWorker } from '../../apps/worker/src/worker.js';
import { waitFor } from '../support/processes.js';

const config = readConfig({ ...process.env, MWT_QUEUE_PREFIX: `mwt-test-worker-${randomUUID().slice(0, 8)}` });
let db: Database;
let prisma: PrismaClient;
let queue: JobQueue;
const jobIds: string[] = [];

before(async () => {
  await initBackend();
  db = createDatabase(config.databaseUrl);
  prisma = db.prisma;
  queue = createJobQueue(config);
});

after(async () => {
  await prisma.job.deleteMany({ where: { id: { in: jobIds } } });
  await queue.obliterate({ force: true });
  await queue.close();
  await db.close();
});

/**
 * This process's open connections to Redis, its threads' included (Linux: the process's socket
 * inodes in /proc/self/fd, matched with established TCP connections to Redis's port).
 */
function redisConnections(): number {
  const port = Number(new URL(config.redisUrl).port || 6379);
  const inodes = new Set<string>();
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${fd}`));
      if (match) inodes.add(match[1]);
    } catch {
      // closed meanwhile
    }
  }
  let count = 0;
  for (const table of ['/proc/self/net/tcp', '/proc/self/net/tcp6']) {
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      // rem_address is HEX_IP:HEX_PORT, st 01 is ESTABLISHED, the inode is the tenth field.
      if (fields.length > 9 && Number.parseInt(fields[2].split(':')[1], 16) === port && fields[3] === '01' && inodes.has(fields[9])) count++;
    }
  }
  return count;
}

/** A pino logger whose JSON lines are kept for the test. */
function capturedLogger(name: string) {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { lines, logger: pino({ level: 'info', base: { worker: name } }, sink) };
}

describe('startWorker', () => {
  it('runs a job, logs it by jobId and worker, and close() requeues it mid-epoch and closes what it opened', async () => {
    const params = { model: 'simcnn-small', epochs: 2, batchSize: 16, trainLimit: 2000, testLimit: 50, seed: 21 };
    const row = await prisma.job.create({ data: { type: 'train_standard', state: 'queued', payload: params } });
    jobIds.push(row.id);
    const { name, data, opts } = queueEntry(row.id, row.type);
    await queue.add(name, data, opts);

    const connectionsBefore = redisConnections();
    const workerName = `test-worker:${randomUUID().slice(0, 8)}`;
    const { lines, logger } = capturedLogger(workerName);
    let connectionsRunning = 0;
    const worker = await startWorker({ config, db, queue, logger, name: workerName, backendName: 'test' });
    try {
      await waitFor(
        'a few batches of training',
        async () => {
          const { progress } = await prisma.job.findUniqueOrThrow({ where: { id: row.id } });
          return progress > 2 ? true : undefined;
        },
        120_000,
        100,
      );
      connectionsRunning = redisConnections();
    } finally {
      await worker.close();
    }

    const paused = await prisma.job.findUniqueOrThrow({ where: { id: row.id } });
    assert.equal(paused.state, 'queued');
    assert.match(paused.message ?? '', new RegExp(`^${workerName} shut down \\(training paused before batch \\d+ of epoch 1\\); queued to resume`));
    const checkpoint = await prisma.checkpoint.findFirstOrThrow({ where: { run: { jobId: row.id } } });
    assert.ok(checkpointPosition(new Uint8Array(checkpoint.state)).batchesDone > 0, 'a mid-epoch checkpoint');
    const bull = await queue.getJob(row.id);
    assert.ok(['delayed', 'waiting'].includes((await bull?.getState()) ?? ''), 'back in the queue');
    assert.equal(bull?.attemptsMade, 0, 'the pause spent no attempt');
    assert.equal(bull?.processedBy, workerName);

    // Every Redis connection the worker opened (BullMQ's two, the cancel subscriber, its thread's) is closed.
    assert.ok(connectionsRunning >= connectionsBefore + 4, `${connectionsRunning} Redis connections while running, ${connectionsBefore} before`);
    await waitFor('the connections to close', async () => (redisConnections() === connectionsBefore ? true : undefined), 5_000, 50).catch(() =>
      assert.fail(`${redisConnections()} Redis connections open after close(), ${connectionsBefore} before startWorker`),
    );

    const messages = lines.map((line) => String(line.msg));
    for (const line of lines) assert.equal(line.worker, workerName, JSON.stringify(line));
    const aboutJob = lines.filter((line) => String(line.msg).includes(row.id));
    assert.deepEqual(
      aboutJob.map((line) => String(line.msg).replace(/: .*/, '')),
      [`job ${row.id} started (train-standard)`, `job ${row.id} back in the queue`],
    );
    for (const line of aboutJob) assert.equal(line.jobId, row.id, JSON.stringify(line));
    assert.ok(
      messages.some((message) => message.startsWith(`worker ready: ${workerName}`)),
      messages.join('\n'),
    );
    assert.ok(messages.includes('closing: pausing the running job at its next batch'), messages.join('\n'));
  });
});
