/*
  Warnings:

  - A unique constraint covering the columns `[idempotencyKey]` on the table `Job` will be added. If there are existing duplicate values, this will fail.

*/
-- CreateEnum
CREATE TYPE "ApiScope" AS ENUM ('read', 'submit', 'admin');

-- AlterTable
ALTER TABLE "Artifact" ADD COLUMN     "jobId" UUID;

-- AlterTable
ALTER TABLE "Job" ADD COLUMN     "idempotencyKey" TEXT,
ADD COLUMN     "ownerKeyId" UUID,
ADD COLUMN     "requestHash" TEXT;

-- CreateTable
CREATE TABLE "ApiKey" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "prefix" TEXT NOT NULL,
    "secretHash" TEXT NOT NULL,
    "scopes" "ApiScope"[],
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "revokedAt" TIMESTAMPTZ(3),
    "lastUsedAt" TIMESTAMPTZ(3),

    CONSTRAINT "ApiKey_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "ApiKey_secretHash_key" ON "ApiKey"("secretHash");

-- CreateIndex
CREATE INDEX "Artifact_jobId_idx" ON "Artifact"("jobId");

-- CreateIndex
CREATE UNIQUE INDEX "Job_idempotencyKey_key" ON "Job"("idempotencyKey");

-- CreateIndex
CREATE INDEX "Job_ownerKeyId_createdAt_id_idx" ON "Job"("ownerKeyId", "createdAt" DESC, "id" DESC);

-- AddForeignKey
ALTER TABLE "Job" ADD CONSTRAINT "Job_ownerKeyId_fkey" FOREIGN KEY ("ownerKeyId") REFERENCES "ApiKey"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Artifact" ADD CONSTRAINT "Artifact_jobId_fkey" FOREIGN KEY ("jobId") REFERENCES "Job"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Backfill: an artifact stored before this migration belongs to the job of the row that points at it
-- (jobs themselves keep a null owner: only admin keys see them).
UPDATE "Artifact" a SET "jobId" = r."jobId" FROM "Run" r WHERE r."modelArtifactId" = a."id" AND a."jobId" IS NULL;
UPDATE "Artifact" a SET "jobId" = m."jobId" FROM "Modularization" m WHERE m."artifactId" = a."id" AND a."jobId" IS NULL;
UPDATE "Artifact" a SET "jobId" = m."jobId" FROM "Module" m WHERE m."artifactId" = a."id" AND a."jobId" IS NULL;
