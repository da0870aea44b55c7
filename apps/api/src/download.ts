/** Sends a stored artifact as a file download, with a strong ETag so clients can revalidate. */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { PrismaClient } from '@mwt/db';
import { notFound } from './errors.js';

export async function sendArtifact(prisma: PrismaClient, artifactId: string, request: FastifyRequest, reply: FastifyReply) {
  const artifact = await prisma.artifact.findUnique({ where: { id: artifactId } });
  if (!artifact) throw notFound('artifact', artifactId);
  const etag = `"${artifact.sha256}"`;
  reply.header('etag', etag).header('cache-control', 'private, max-age=0, must-revalidate');
  if (request.headers['if-none-match'] === etag) return reply.code(304).send();
  // RFC 6266: an ASCII fallback plus the exact UTF-8 name.
  const ascii = artifact.fileName.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return reply
    .header('content-type', artifact.contentType)
    .header('content-length', artifact.bytes.byteLength)
    .header('content-disposition', `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(artifact.fileName)}`)
    .send(Buffer.from(artifact.bytes.buffer, artifact.bytes.byteOffset, artifact.bytes.byteLength));
}
