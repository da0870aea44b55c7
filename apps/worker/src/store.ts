import { exportArtifact, importArtifact, type Model, type MetadataInput } from '@mwt/core';
import type { ArtifactKind, PrismaClient } from '@mwt/db';
import { packTar, sha256, unpackTar } from '@mwt/shared';

/** Packs a model into a tar artifact and stores it with its sha256; returns the Artifact id. */
export async function storeModel(prisma: PrismaClient, kind: ArtifactKind, fileName: string, model: Model, metadata: MetadataInput): Promise<string> {
  const archive = await packTar(await exportArtifact(model, metadata));
  const artifact = await prisma.artifact.create({
    data: { kind, fileName, contentType: 'application/x-tar', bytes: archive, sha256: sha256(archive), size: archive.byteLength },
    select: { id: true },
  });
  return artifact.id;
}

/** Loads a stored model artifact back into a Model (exact parameters). */
export async function loadModel(prisma: PrismaClient, artifactId: string): Promise<Model> {
  const artifact = await prisma.artifact.findUniqueOrThrow({ where: { id: artifactId }, select: { bytes: true } });
  const { model } = await importArtifact(await unpackTar(artifact.bytes));
  return model;
}
