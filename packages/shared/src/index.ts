export * from './config.js';
export * from './jobs.js';
export * from './job-queue.js';
export * from './archive.js';
export * from './live-events.js';
