/**
 * `mwt watch <job>`: one progress line (bar, percent, phase, epoch, ETA, the latest epoch's
 * metrics) drawn from the job's event stream. On a terminal the line is redrawn in place; in a
 * pipe or a log each change is one line. The exit status tells how the job ended: 0 completed,
 * 1 failed or cancelled, 130 when interrupted (Ctrl-C; the job itself keeps running).
 */
import type { ApiClient } from './client.js';
import { CliError } from './errors.js';
import { jobEvents } from './events.js';

export const EXIT_INTERRUPTED = 130;

interface Status {
  state?: string;
  progress?: number;
  percent?: number;
  phase?: string | null;
  epoch?: number | null;
  totalEpochs?: number | null;
  message?: string | null;
  error?: string | null;
}

interface EpochMetrics {
  epoch: number;
  loss?: number;
  trainAccuracy?: number;
  testAccuracy?: number;
}

const BAR_WIDTH = 24;

function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

/** Remaining time from the rate of progress seen since watching began; null until there is a rate. */
export class Eta {
  private first?: { at: number; percent: number };

  estimate(percent: number, now = Date.now()): number | null {
    if (!this.first) this.first = { at: now, percent };
    const done = percent - this.first.percent;
    if (done <= 0 || percent >= 100) return null;
    return ((now - this.first.at) / done) * (100 - percent);
  }
}

export function progressLine(status: Status, metrics: EpochMetrics | undefined, etaMs: number | null): string {
  const percent = status.percent ?? status.progress ?? 0;
  const filled = Math.round((Math.min(100, Math.max(0, percent)) / 100) * BAR_WIDTH);
  const parts = [`[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}] ${percent.toFixed(1).padStart(5)}%`];
  if (status.state && status.state !== 'running') parts.push(status.state);
  if (status.phase) parts.push(status.phase);
  if (status.epoch != null && status.totalEpochs) parts.push(`epoch ${status.epoch}/${status.totalEpochs}`);
  if (etaMs !== null) parts.push(`ETA ${duration(etaMs)}`);
  if (metrics) {
    const m = [`e${metrics.epoch}`];
    if (metrics.loss !== undefined) m.push(`loss ${metrics.loss.toFixed(3)}`);
    if (metrics.trainAccuracy !== undefined) m.push(`train ${(metrics.trainAccuracy * 100).toFixed(1)}%`);
    if (metrics.testAccuracy !== undefined) m.push(`test ${(metrics.testAccuracy * 100).toFixed(1)}%`);
    parts.push(`| ${m.join(' ')}`);
  }
  if (status.message) parts.push(`(${status.message})`);
  return parts.join('  ');
}

/** Follows a job to its end; resolves with the exit status. */
export async function watchJob(client: ApiClient, jobId: string, out: NodeJS.WriteStream = process.stderr): Promise<number> {
  const abort = new AbortController();
  let interrupted = false;
  const onSigint = () => {
    interrupted = true;
    abort.abort();
  };
  process.once('SIGINT', onSigint);
  const tty = out.isTTY;
  let shown = '';
  const draw = (line: string) => {
    if (line === shown) return;
    shown = line;
    out.write(tty ? `\r\x1b[2K${line}` : `${line}\n`);
  };
  const status: Status = {};
  const eta = new Eta();
  let metrics: EpochMetrics | undefined;
  try {
    for await (const { event, data } of jobEvents(client, jobId, abort.signal)) {
      if (event === 'error') throw new CliError((data as { message?: string }).message ?? 'the event stream reported an error');
      if (event === 'metrics') metrics = data as EpochMetrics;
      else if (event === 'progress') Object.assign(status, data, { message: (data as Status).message ?? null });
      else if (event === 'state' || event === 'end') Object.assign(status, data, { percent: (data as Status).progress });
      draw(progressLine(status, metrics, eta.estimate(status.percent ?? 0)));
      if (event === 'end') {
        if (tty) out.write('\n');
        const final = data as Status;
        if (final.state === 'failed') out.write(`job ${jobId} failed: ${final.error ?? 'no reason given'}\n`);
        else out.write(`job ${jobId} ${final.state}\n`);
        return final.state === 'completed' ? 0 : 1;
      }
    }
    throw new CliError(`the event stream of job ${jobId} ended without an end event`);
  } catch (error) {
    if (interrupted) {
      out.write(`${tty ? '\n' : ''}interrupted; job ${jobId} goes on (mwt cancel ${jobId} stops it)\n`);
      return EXIT_INTERRUPTED;
    }
    throw error;
  } finally {
    process.off('SIGINT', onSigint);
  }
}
