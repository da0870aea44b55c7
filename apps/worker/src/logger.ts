/**
 * The worker's log: pino JSON lines on stdout, as the API writes them, at LOG_LEVEL. Every line
 * names the worker (`host:pid`); a line about a job carries its `jobId`, so that one job's story can
 * be pulled out of many workers' logs.
 */
import { pino, stdTimeFunctions, type Logger } from 'pino';
import type { LogLevel } from '@mwt/shared';

export function createWorkerLogger(level: LogLevel, worker: string): Logger {
  return pino({ level, base: { worker }, timestamp: stdTimeFunctions.isoTime });
}
