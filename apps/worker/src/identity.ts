import { hostname } from 'node:os';

/** How a worker process names itself: in BullMQ (`processedBy`), in its log lines and in its live events. */
export const WORKER_NAME = `${hostname()}:${process.pid}`;
