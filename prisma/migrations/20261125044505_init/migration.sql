-- CreateEnum
CREATE TYPE "JobType" AS ENUM ('train_modular', 'train_standard', 'modularize', 'reuse', 'pipeline');

-- CreateEnum
CREATE TYPE "JobState" AS ENUM ('queued', 'running', 'completed', 'failed', 'cancelled');

-- CreateEnum
CREATE TYPE "RunKind" AS ENUM ('modular', 'standard', 'module');

-- CreateEnum
CREATE TYPE "ModuleKind" AS ENUM ('class', 'reused');

-- CreateEnum
CREATE TYPE "ArtifactKind" AS ENUM ('model', 'module_set', 'module');

-- CreateTable
CREATE TABLE "Job" (
    "id" UUID NOT NULL,
    "type" "JobType" NOT NULL,
    "state" "JobState" NOT NULL DEFAULT 'queued',
    "payload" JSONB NOT NULL,
    "progress" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "phase" TEXT,
    "epoch" INTEGER,
    "totalEpochs" INTEGER,
    "message" TEXT,
    "error" TEXT,
    "result" JSONB,
    "cancelRequested" BOOLEAN NOT NULL DEFAULT false,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "startedAt" TIMESTAMPTZ(3),
    "finishedAt" TIMESTAMPTZ(3),
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "Job_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Run" (
    "id" UUID NOT NULL,
    "jobId" UUID NOT NULL,
    "kind" "RunKind" NOT NULL,
    "dataset" TEXT NOT NULL,
    "model" TEXT NOT NULL,
    "config" JSONB NOT NULL,
    "status" "JobState" NOT NULL DEFAULT 'queued',
    "backend" TEXT,
    "epochsDone" INTEGER NOT NULL DEFAULT 0,
    "trainAccuracy" DOUBLE PRECISION,
    "testAccuracy" DOUBLE PRECISION,
    "wallMs" INTEGER,
    "params" INTEGER,
    "flops" BIGINT,
    "modelArtifactId" UUID,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finishedAt" TIMESTAMPTZ(3),

    CONSTRAINT "Run_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "EpochMetric" (
    "id" UUID NOT NULL,
    "runId" UUID NOT NULL,
    "epoch" INTEGER NOT NULL,
    "lr" DOUBLE PRECISION NOT NULL,
    "trainAccuracy" DOUBLE PRECISION NOT NULL,
    "testAccuracy" DOUBLE PRECISION NOT NULL,
    "loss" DOUBLE PRECISION NOT NULL,
    "ceLoss" DOUBLE PRECISION NOT NULL,
    "cohesionLoss" DOUBLE PRECISION,
    "couplingLoss" DOUBLE PRECISION,
    "kernelRate" DOUBLE PRECISION,
    "batchCohesion" DOUBLE PRECISION,
    "batchCoupling" DOUBLE PRECISION,
    "durationMs" INTEGER NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "EpochMetric_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Checkpoint" (
    "runId" UUID NOT NULL,
    "epoch" INTEGER NOT NULL,
    "state" BYTEA NOT NULL,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "Checkpoint_pkey" PRIMARY KEY ("runId")
);

-- CreateTable
CREATE TABLE "Modularization" (
    "id" UUID NOT NULL,
    "jobId" UUID NOT NULL,
    "runId" UUID NOT NULL,
    "threshold" DOUBLE PRECISION NOT NULL,
    "krr" DOUBLE PRECISION NOT NULL,
    "cohesion" DOUBLE PRECISION NOT NULL,
    "coupling" DOUBLE PRECISION NOT NULL,
    "layers" JSONB NOT NULL,
    "artifactId" UUID,
    "wallMs" INTEGER NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Modularization_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Module" (
    "id" UUID NOT NULL,
    "jobId" UUID NOT NULL,
    "modularizationId" UUID NOT NULL,
    "kind" "ModuleKind" NOT NULL,
    "classes" INTEGER[],
    "keptKernels" INTEGER NOT NULL,
    "totalKernels" INTEGER NOT NULL,
    "kernelRetention" DOUBLE PRECISION NOT NULL,
    "mask" BYTEA NOT NULL,
    "params" INTEGER,
    "flops" BIGINT,
    "fullParams" INTEGER,
    "fullFlops" BIGINT,
    "accuracy" DOUBLE PRECISION,
    "standardAccuracy" DOUBLE PRECISION,
    "accuracyLoss" DOUBLE PRECISION,
    "runId" UUID,
    "artifactId" UUID,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Module_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Artifact" (
    "id" UUID NOT NULL,
    "kind" "ArtifactKind" NOT NULL,
    "fileName" TEXT NOT NULL,
    "contentType" TEXT NOT NULL,
    "bytes" BYTEA NOT NULL,
    "sha256" TEXT NOT NULL,
    "size" INTEGER NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Artifact_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "Job_createdAt_id_idx" ON "Job"("createdAt" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "Job_state_createdAt_id_idx" ON "Job"("state", "createdAt" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "Job_type_createdAt_id_idx" ON "Job"("type", "createdAt" DESC, "id" DESC);

-- CreateIndex
CREATE UNIQUE INDEX "Run_jobId_kind_key" ON "Run"("jobId", "kind");

-- CreateIndex
CREATE UNIQUE INDEX "EpochMetric_runId_epoch_key" ON "EpochMetric"("runId", "epoch");

-- CreateIndex
CREATE INDEX "Modularization_runId_idx" ON "Modularization"("runId");

-- CreateIndex
CREATE UNIQUE INDEX "Modularization_jobId_key" ON "Modularization"("jobId");

-- CreateIndex
CREATE INDEX "Module_jobId_idx" ON "Module"("jobId");

-- CreateIndex
CREATE INDEX "Module_runId_idx" ON "Module"("runId");

-- CreateIndex
CREATE UNIQUE INDEX "Module_modularizationId_kind_classes_jobId_key" ON "Module"("modularizationId", "kind", "classes", "jobId");

-- AddForeignKey
ALTER TABLE "Run" ADD CONSTRAINT "Run_jobId_fkey" FOREIGN KEY ("jobId") REFERENCES "Job"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Run" ADD CONSTRAINT "Run_modelArtifactId_fkey" FOREIGN KEY ("modelArtifactId") REFERENCES "Artifact"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "EpochMetric" ADD CONSTRAINT "EpochMetric_runId_fkey" FOREIGN KEY ("runId") REFERENCES "Run"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Checkpoint" ADD CONSTRAINT "Checkpoint_runId_fkey" FOREIGN KEY ("runId") REFERENCES "Run"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Modularization" ADD CONSTRAINT "Modularization_jobId_fkey" FOREIGN KEY ("jobId") REFERENCES "Job"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Modularization" ADD CONSTRAINT "Modularization_runId_fkey" FOREIGN KEY ("runId") REFERENCES "Run"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Modularization" ADD CONSTRAINT "Modularization_artifactId_fkey" FOREIGN KEY ("artifactId") REFERENCES "Artifact"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Module" ADD CONSTRAINT "Module_jobId_fkey" FOREIGN KEY ("jobId") REFERENCES "Job"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Module" ADD CONSTRAINT "Module_modularizationId_fkey" FOREIGN KEY ("modularizationId") REFERENCES "Modularization"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Module" ADD CONSTRAINT "Module_runId_fkey" FOREIGN KEY ("runId") REFERENCES "Run"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Module" ADD CONSTRAINT "Module_artifactId_fkey" FOREIGN KEY ("artifactId") REFERENCES "Artifact"("id") ON DELETE SET NULL ON UPDATE CASCADE;
