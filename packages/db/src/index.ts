/**
 * PostgreSQL for the MwT service: createDatabase() gives the repositories (one per resource, each
 * read of an owned resource narrowed by the caller's Principal), the blob store and the client.
 * Every query has a deadline, and a connection a query gave up on is closed, never lent again
 * (release-guard.ts, transactions.ts).
 */
export * from './generated/client.js';
export { BlobChanged, BlobStore, CHUNK_BYTES, type ArtifactUpload, type StoredCheckpoint } from './blobs.js';
export { createDatabase, createPrisma, type Database, type DatabaseOptions } from './database.js';
export { type NewJob } from './job-inserts.js';
export { findJobsWithChildIds, type JobLookup, type JobOwner, type JobWithChildIds } from './job-view.js';
export { SCOPES, SYSTEM_PRINCIPAL, allows, isAdmin, type Principal, type Scope } from './principal.js';
export type { ApiKeyRecord, NewApiKey } from './repositories/api-keys.js';
export type { ArtifactFile } from './repositories/artifacts.js';
export type { FinalFields, FinalState, JobListFilter, JobProgress, JobStatusRow } from './repositories/jobs.js';
export type { NewModularization } from './repositories/modularizations.js';
export type { ModuleRecord } from './repositories/modules.js';
export type { EpochFigures, NewRun } from './repositories/runs.js';
export { piecesLength, slicePieces, type Pieces } from './pieces.js';
export { isUniqueViolation } from './unique.js';
export { isDatabaseUnavailable } from './unavailable.js';
