/** Artifact rows without their bytes (those go through BlobStore): what a download needs to answer. */
import type { Artifact, PrismaClient } from '../generated/client.js';
import { ownedThroughJob } from '../owner-filter.js';
import type { Principal } from '../principal.js';

export type ArtifactFile = Pick<Artifact, 'id' | 'sha256' | 'size' | 'fileName' | 'contentType'>;

const fileFields = { id: true, sha256: true, size: true, fileName: true, contentType: true } as const;

export class ArtifactRepository {
  constructor(private readonly prisma: PrismaClient) {}

  /** The artifact, if it belongs to one of the principal's jobs (Artifact.jobId). */
  find(principal: Principal, id: string): Promise<ArtifactFile | null> {
    return this.prisma.artifact.findFirst({ where: { id, ...ownedThroughJob(principal) }, select: fileFields });
  }

  /** The artifact of module `moduleId`, if the module belongs to one of the principal's jobs: the module's owner owns its file. */
  findOfModule(principal: Principal, moduleId: string, artifactId: string): Promise<ArtifactFile | null> {
    return this.prisma.artifact.findFirst({ where: { id: artifactId, modules: { some: { id: moduleId, ...ownedThroughJob(principal) } } }, select: fileFields });
  }
}
