/**
 * Downloads one URL over and over on `connections` keep-alive connections for `seconds`, counting
 * and discarding the bytes. autocannon is not used here: it tops out near 30 MB/s on a 32 MB body
 * on this machine, while curl fetches the same cached artifact at ~800 MB/s. Neither is fetch():
 * reading a 32 MB body with arrayBuffer() cost this process 140-280 ms of CPU, node:http 45-90.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { percentile } from './stats.js';

/**
 * One download of `url` with curl, as the README downloads: its status, its body and how long it
 * took (curl's time_total, the last byte written to a file; the body is read back afterwards). Not
 * node:http in this process: on these two cores the client shares the CPU with the API and
 * PostgreSQL, and this process spent 93-209 ms of CPU per 32 MB (curl: 40-50 ms), which showed as
 * a slower service.
 */
export async function downloadOnce(url: string, headers: Record<string, string>): Promise<{ status: number; body: Buffer; ms: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'mwt-download-'));
  try {
    const file = join(dir, 'body');
    const headerArgs = Object.entries(headers).flatMap(([name, value]) => ['--header', `${name}: ${value}`]);
    const { stdout } = await promisify(execFile)('curl', ['--silent', '--show-error', '--output', file, '--write-out', '%{http_code} %{time_total}', ...headerArgs, url]);
    const [status, seconds] = stdout.split(' ').map(Number);
    return { status, body: await readFile(file), ms: seconds * 1000 };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export interface DownloadLoad {
  downloads: number;
  non2xx: number;
  megabytesPerSecond: number;
  p50Ms: number;
  p99Ms: number;
}

export async function downloadLoad(url: string, headers: Record<string, string>, connections: number, seconds: number): Promise<DownloadLoad> {
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  const latencies: number[] = [];
  let bytes = 0;
  let non2xx = 0;
  const once = () =>
    new Promise<void>((resolve, reject) => {
      const sent = performance.now();
      request(url, { agent, headers }, (res) => {
        if (res.statusCode === undefined || res.statusCode >= 300) non2xx += 1;
        res.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
        });
        res.on('end', () => {
          latencies.push(performance.now() - sent);
          resolve();
        });
        res.on('error', reject);
      })
        .on('error', reject)
        .end();
    });
  const started = performance.now();
  const until = started + seconds * 1000;
  try {
    await Promise.all(
      Array.from({ length: connections }, async () => {
        while (performance.now() < until) await once();
      }),
    );
  } finally {
    agent.destroy();
  }
  latencies.sort((a, b) => a - b);
  const elapsedS = (performance.now() - started) / 1000;
  return { downloads: latencies.length, non2xx, megabytesPerSecond: bytes / 1e6 / elapsedS, p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99) };
}
