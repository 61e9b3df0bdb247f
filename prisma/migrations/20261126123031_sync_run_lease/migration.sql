-- AlterTable: a running sync's liveness. Its worker renews lease_expires_at while it runs; a run whose
-- lease lapsed (and whose account lock is free) was cut short and is failed and resumed by another worker.
ALTER TABLE "sync_runs" ADD COLUMN     "lease_expires_at" TIMESTAMPTZ(3),
ADD COLUMN     "worker" TEXT,
ADD COLUMN     "job_id" UUID;

-- CreateIndex
CREATE INDEX "sync_runs_status_lease_expires_at_idx" ON "sync_runs"("status", "lease_expires_at");
