/**
 * The worker's log: pino JSON lines on stdout, as the API writes them, at LOG_LEVEL. Every line
 * names the worker (`host:pid`); a line about a job carries its `jobId`, so that one job's story can
 * be pulled out of many workers' logs.
 */
import { pino, stdTimeFunctions } from 'pino';
import { readConfig } from '@mwt/shared';
import { WORKER_NAME } from './identity.js';

export const logger = pino({ level: readConfig().logLevel, base: { worker: WORKER_NAME }, timestamp: stdTimeFunctions.isoTime });
