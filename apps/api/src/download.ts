/**
 * Sends a stored artifact as a file download: a strong ETag (its sha256) for revalidation, and
 * byte ranges so that an interrupted download resumes where it stopped. The bytes come from the
 * in-process cache, or stream from PostgreSQL chunk by chunk as the client takes them, so a large
 * artifact never sits whole in memory and a range reads only what it covers.
 */
import { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { slicePieces, type ArtifactFile, type BlobStore } from '@mwt/db';
import type { ArtifactCache } from './artifact-cache.js';
import type { AppDeps } from './deps.js';
import { noneMatch, parseRange, rangeStillValid } from './download-headers.js';
import { HttpError, notFound } from './errors.js';

/** What the download routes are registered with. */
export interface DownloadDeps extends AppDeps {
  artifactCache: ArtifactCache;
}

/** Bytes [start, end) of the artifact, as pieces (from the cache, or as they arrive from PostgreSQL). */
function body(blobs: BlobStore, cache: ArtifactCache, artifact: ArtifactFile, start: number, end: number): Readable {
  const cached = cache.get(artifact.sha256);
  // Not object mode: the stream then pulls the next piece only once the socket has taken the last.
  if (cached) return Readable.from(slicePieces(cached, start, end), { objectMode: false });
  const pieces = blobs.artifactChunks(artifact.id, artifact.sha256, start, end);
  const whole = start === 0 && end === artifact.size;
  return Readable.from(whole ? cache.fillFrom(artifact.sha256, artifact.size, pieces) : pieces, { objectMode: false });
}

/** `artifact`: the row of `artifactId` as the caller may see it (the artifacts repository), or null: 404. */
export async function sendArtifact({ db, artifactCache }: DownloadDeps, artifactId: string, artifact: ArtifactFile | null, request: FastifyRequest, reply: FastifyReply) {
  if (!artifact) throw notFound('artifact', artifactId);
  const { size } = artifact;
  const etag = `"${artifact.sha256}"`;
  reply.header('etag', etag).header('cache-control', 'private, max-age=0, must-revalidate').header('accept-ranges', 'bytes');
  if (noneMatch(request.headers['if-none-match'], etag)) return reply.code(304).send();

  const range = rangeStillValid(request.headers['if-range'], etag) ? parseRange(request.headers.range, size) : { kind: 'whole' as const };
  if (range.kind === 'unsatisfiable') {
    throw new HttpError(416, `range ${request.headers.range} is not satisfiable: the artifact has ${size} bytes`, { 'content-range': `bytes */${size}` });
  }
  // RFC 6266: an ASCII fallback plus the exact UTF-8 name.
  const ascii = artifact.fileName.replace(/[^\x20-\x7e]|["\\]/g, '_');
  reply.header('content-type', artifact.contentType).header('content-disposition', `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(artifact.fileName)}`);
  const [start, end] = range.kind === 'whole' ? [0, size] : [range.start, range.end + 1];
  if (range.kind === 'part') reply.code(206).header('content-range', `bytes ${range.start}-${range.end}/${size}`);
  reply.header('content-length', end - start);
  // HEAD: Fastify would drain a stream it does not send, reading the artifact for nothing.
  return reply.send(request.method === 'HEAD' ? Readable.from([]) : body(db.blobs, artifactCache, artifact, start, end));
}
