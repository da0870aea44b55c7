/**
 * SIGTERM sent to exactly what the README tells people to run, and what docker-compose.yml and
 * Dockerfile.gpu start (their exec-form commands, as Docker runs them: no shell), reaches the
 * service: the API stops, a worker checkpoints and requeues its running job and exits 0, and no
 * process of theirs is left behind (npm, the old start command, exited and left node running).
 * Production runs the compiled dist/: the file compiles it first (tsc -b, incremental), so that it
 * never runs a stale build.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { Queue } from 'bullmq';
import { parse } from 'yaml';
import type { QueuedJob } from '@mwt/shared';
import { apiClient, type Call, type JobView } from '../support/api-client.js';
import { freePort, GaveUp, waitFor } from '../support/processes.js';
import { startTestApi, type TestApi } from '../support/test-api.js';

type Role = 'api' | 'worker';

/** The README's start commands: lines of its shell blocks that run an entry point, from sources (tsx) or compiled (dist/). */
function readmeCommands(role: Role): string[][] {
  const lines = readFileSync('README.md', 'utf8')
    .split('\n')
    .map((line) => line.replace(/#.*$/, '').trim());
  const entries = [`apps/${role}/src/main.ts`, `apps/${role}/dist/main.js`];
  return lines.filter((line) => entries.some((entry) => line.endsWith(entry)) && !line.includes('=')).map((line) => line.split(/\s+/));
}

function startCommands(role: Role): string[][] {
  const compose = parse(readFileSync('docker-compose.yml', 'utf8'), { merge: true }) as { services: Record<string, { command: string[] }> };
  const commands = [...readmeCommands(role), compose.services[role].command];
  if (role === 'api') commands.push(JSON.parse(/^CMD (.*)$/m.exec(readFileSync('Dockerfile.gpu', 'utf8'))?.[1] ?? '[]') as string[]);
  // One run per distinct command line.
  return [...new Map(commands.map((argv) => [argv.join(' '), argv])).values()];
}

/** Processes whose environment carries `marker`: what a start command left running. */
function processesWith(marker: string): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').includes(marker);
      } catch {
        return false; // gone meanwhile, or not ours to read
      }
    })
    .map(Number);
}

/** Spawns a start command as Docker's exec form or a shell would (argv, no shell in between), tagged with a marker. */
function launch(argv: string[], env: Record<string, string>) {
  const marker = `MWT_SIGNAL_TEST=${randomUUID()}`;
  const [key, value] = marker.split('=');
  const child = spawn(argv[0], argv.slice(1), { env: { ...process.env, ...env, [key]: value }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  /** SIGTERM to the started process; its exit code, or 'hung' after `boundMs`. Whatever it left running is killed (and reported). */
  const terminate = async (boundMs: number) => {
    child.kill('SIGTERM');
    const code = await Promise.race([exited, new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), boundMs))]);
    // Give an orphan's own shutdown the same bound before calling it left behind.
    const deadline = Date.now() + boundMs;
    while (processesWith(marker).length > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200));
    const left = processesWith(marker);
    for (const pid of left) process.kill(pid, 'SIGKILL');
    if (code === 'hung') child.kill('SIGKILL');
    return { code, left };
  };
  return { output: () => output, terminate };
}

/** How long a stop may take: the API closes at once, a worker within a batch or two (the shutdown's own grace is 30 s). */
const STOP_BOUND_MS = 20_000;

let service: TestApi | undefined;
let env: Record<string, string>;
let http: Call;
let queue: Queue<QueuedJob>;
const jobIds: string[] = [];

before(async () => {
  execFileSync('npx', ['tsc', '-b', 'tsconfig.build.json'], { stdio: 'inherit' });
  service = await startTestApi();
  ({ env, http, queue } = service);
});

after(async () => {
  await service?.stop(jobIds);
});

describe('SIGTERM to the documented start commands', () => {
  it('the README, compose and the image start node itself', () => {
    assert.ok(readmeCommands('api').length > 0 && readmeCommands('worker').length > 0, 'the README shows how to start the API and a worker');
    for (const role of ['api', 'worker'] as const) {
      const commands = startCommands(role).map((argv) => argv.join(' '));
      assert.ok(commands.includes(`node --import tsx apps/${role}/src/main.ts`), `development runs the ${role} from sources: ${commands.join(', ')}`);
      assert.ok(commands.includes(`node --conditions=production apps/${role}/dist/main.js`), `production runs the compiled ${role}: ${commands.join(', ')}`);
    }
    for (const role of ['api', 'worker'] as const) for (const argv of startCommands(role)) assert.equal(argv[0], 'node', argv.join(' '));
  });

  for (const argv of startCommands('api')) {
    it(`stops the API: ${argv.join(' ')}`, async () => {
      const port = await freePort();
      const own = apiClient(`http://127.0.0.1:${port}`);
      const started = launch(argv, { ...env, PORT: String(port) });
      await waitFor('the API', async () => ((await own('GET', '/healthz')).status === 200 ? true : undefined), 60_000);
      const { code, left } = await started.terminate(STOP_BOUND_MS);
      assert.equal(code, 0, started.output());
      assert.deepEqual(left, [], 'no process of the API is left running');
    });
  }

  for (const argv of startCommands('worker')) {
    it(`makes a worker requeue its running job and exit: ${argv.join(' ')}`, async () => {
      const created = await http<{ id: string }>('POST', '/jobs', {
        type: 'train-standard',
        params: { model: 'simcnn-small', epochs: 20, batchSize: 16, trainLimit: 2000, testLimit: 50, seed: 6 },
      });
      assert.equal(created.status, 201);
      const jobId = created.body.id;
      jobIds.push(jobId);
      const started = launch(argv, env);
      await waitFor(
        'the job to train',
        async () => {
          const { body } = await http<JobView>('GET', `/jobs/${jobId}`);
          if (body.state !== 'queued' && body.state !== 'running') throw new GaveUp(`job is ${body.state}: ${body.error}`);
          return body.state === 'running' && body.progress > 0 ? true : undefined;
        },
        120_000,
      ).catch((error: Error) => assert.fail(`${error.message}\n${started.output()}`));
      const { code, left } = await started.terminate(STOP_BOUND_MS);
      assert.equal(code, 0, started.output());
      assert.deepEqual(left, [], 'no process of the worker is left running');
      const { body } = await http<JobView>('GET', `/jobs/${jobId}`);
      assert.equal(body.state, 'queued', started.output());
      assert.match(body.message ?? '', /shut down \(training paused before batch \d+ of epoch \d+\); queued to resume/);
      // Taken out of the queue again, so that no other test's worker picks it up.
      await queue.remove(jobId);
    });
  }
});
