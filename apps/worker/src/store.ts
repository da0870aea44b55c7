import { createHash } from 'node:crypto';
import { exportArtifact, importArtifact, type Model, type MetadataInput } from '@mwt/core';
import type { ArtifactKind, BlobStore } from '@mwt/db';
import { packTar, sha256, unpackTar } from '@mwt/shared';

/**
 * The id of the artifact stored under `key`: a UUID derived from the key, so that a phase retried
 * after a crash writes the same row again instead of a second one that nothing references.
 */
export function artifactId(key: string): string {
  const hex = createHash('sha256').update(`mwt-artifact:${key}`).digest('hex');
  // RFC 9562 version 8 (custom) with the RFC variant bits.
  const variant = ((parseInt(hex[16], 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** Where an artifact belongs: the job that stores it, and its key within that job (see artifactId). */
export interface ArtifactSlot {
  jobId: string;
  key: string;
}

/** Packs a model into a tar artifact and stores it with its sha256 in its slot; returns the Artifact id. */
export async function storeModel(blobs: BlobStore, slot: ArtifactSlot, kind: ArtifactKind, fileName: string, model: Model, metadata: MetadataInput): Promise<string> {
  const archive = await packTar(await exportArtifact(model, metadata));
  const id = artifactId(`${slot.jobId}:${slot.key}`);
  await blobs.writeArtifact({ id, jobId: slot.jobId, kind, fileName, contentType: 'application/x-tar', sha256: sha256(archive), bytes: archive });
  return id;
}

/** Loads a stored model artifact back into a Model (exact parameters). */
export async function loadModel(blobs: BlobStore, artifactId: string): Promise<Model> {
  const archive = await blobs.readArtifact(artifactId);
  if (!archive) throw new Error(`artifact ${artifactId} not found`);
  const { model } = await importArtifact(await unpackTar(archive));
  return model;
}
