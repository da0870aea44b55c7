/**
 * Sends a stored artifact as a file download: a strong ETag (its sha256) for revalidation, and
 * byte ranges so that an interrupted download resumes where it stopped.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Prisma, PrismaClient } from '@mwt/db';
import { noneMatch, parseRange, rangeStillValid } from './download-headers.js';
import { HttpError, notFound } from './errors.js';

/** `owner` narrows the lookup to the caller's artifacts (see auth/principal.ts); `{}` when already checked. */
export async function sendArtifact(
  prisma: PrismaClient,
  artifactId: string,
  owner: Prisma.ArtifactWhereInput,
  request: FastifyRequest,
  reply: FastifyReply,
) {
  const artifact = await prisma.artifact.findFirst({ where: { id: artifactId, ...owner } });
  if (!artifact) throw notFound('artifact', artifactId);
  const etag = `"${artifact.sha256}"`;
  const size = artifact.bytes.byteLength;
  reply.header('etag', etag).header('cache-control', 'private, max-age=0, must-revalidate').header('accept-ranges', 'bytes');
  if (noneMatch(request.headers['if-none-match'], etag)) return reply.code(304).send();

  const range = rangeStillValid(request.headers['if-range'], etag) ? parseRange(request.headers.range, size) : { kind: 'whole' as const };
  if (range.kind === 'unsatisfiable') {
    throw new HttpError(416, `range ${request.headers.range} is not satisfiable: the artifact has ${size} bytes`, { 'content-range': `bytes */${size}` });
  }
  const bytes = Buffer.from(artifact.bytes.buffer, artifact.bytes.byteOffset, size);
  // RFC 6266: an ASCII fallback plus the exact UTF-8 name.
  const ascii = artifact.fileName.replace(/[^\x20-\x7e]|["\\]/g, '_');
  reply
    .header('content-type', artifact.contentType)
    .header('content-disposition', `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(artifact.fileName)}`);
  if (range.kind === 'whole') return reply.header('content-length', size).send(bytes);
  const { start, end } = range;
  return reply
    .code(206)
    .header('content-range', `bytes ${start}-${end}/${size}`)
    .header('content-length', end - start + 1)
    .send(bytes.subarray(start, end + 1));
}
