-- Artifact bytes and checkpoint states are model weights: they do not compress, and a compressed
-- value must be decompressed from its start to read any slice of it. EXTERNAL keeps them out of
-- line and uncompressed, so writes skip the futile compression attempt and substring() reads only
-- the TOAST chunks it covers (packages/db/src/blobs.ts reads them in 1 MiB slices). Applies to
-- values written from now on. Prisma's schema has no notion of storage, so it sees no drift.
ALTER TABLE "Artifact" ALTER COLUMN "bytes" SET STORAGE EXTERNAL;
ALTER TABLE "Checkpoint" ALTER COLUMN "state" SET STORAGE EXTERNAL;
